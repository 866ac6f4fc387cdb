// The diagnostic code table. Each explanation says what went wrong, why the language rejects
// it, and shows a fix. docs/language.md lists the titles.
#include "compiler/diagnostics/codes.h"

#include <cctype>
#include <string>

namespace circuit::compiler {
namespace {

constexpr DiagnosticCode kCodes[] = {
    {"E001", "syntax error",
     "The parser met a token it did not expect here. The message names the token and, when\n"
     "there are few, what could come instead. Check for a missing closing bracket, a missing\n"
     "':' in a task property, or a keyword used as a name.\n\n  task t { prompts [\"a\"] }   // wrong\n  task t { prompts: [\"a\"] }  // right\n"},
    {"E002", "bad character or string",
     "A character that is not part of the language, a string that does not end on its line,\n"
     "or an unknown escape in a string. Strings are written in double quotes and may use\n"
     "\\n, \\t, \\\" and \\\\.\n"},
    {"E003", "nested too deeply",
     "Brackets or expressions are nested beyond the compiler's limit (100 brackets, 1000\n"
     "expression levels). Break the expression into named parts with `let`.\n"},
    {"E004", "number too large", "An integer does not fit in 64 bits.\n"},
    {"E005", "bad component address",
     "Each kind of component takes its own address: head 9.6 (layer.head), heads 9.* or\n"
     "heads *, kv_head 9.1, neuron 3.1021, mlp 3, attn 2, resid 5 pre|mid|post, and embed\n"
     "or logits without an address.\n\n  head 9      // wrong: which head?\n  heads 9.*   // every head of layer 9\n"},
    {"E006", "file too large",
     "A .circuit file holds at most 8 MiB, far more than any real program (4,096 long\n"
     "prompts take about 1 MiB); the limit keeps the compiler's memory bounded. Split the\n"
     "file into several that `use` each other.\n"},
    {"E010", "unknown name",
     "The name is not a let, circuit or task of this file or of a file it uses, not a\n"
     "parameter, and not a built-in function. The hint suggests the closest known name.\n"},
    {"E011", "defined twice",
     "A file defines a name once: two lets, circuits or tasks with one name, two parameters\n"
     "with one name, or a task property given twice.\n"},
    {"E012", "layer out of range",
     "The model this file runs on has fewer layers. Layers count from 0; the hint gives the\n"
     "model's range. Check `model \"...\"` or --model if you meant another model.\n"},
    {"E013", "head out of range", "The model has fewer attention heads per layer; heads count from 0.\n"},
    {"E014", "key/value head out of range",
     "With grouped-query attention a layer has fewer key/value heads than query heads;\n"
     "kv_head L.H counts them from 0.\n"},
    {"E015", "neuron out of range", "The model's MLPs have fewer hidden units (d_mlp).\n"},
    {"E016", "definition refers to itself", "A let's value uses the let itself, directly or through others.\n"},
    {"E017", "the model lacks this component",
     "Attention-only models have no MLPs (so no mlp, neuron or resid L mid); models with a\n"
     "parallel residual have no resid L mid either.\n"},
    {"E020", "imported file not found",
     "use \"FILE\" looks next to the importing file, then along the stdlib search path\n"
     "($CIRCUIT_STDLIB or the stdlib/ folder). The hint lists the folders searched.\n"},
    {"E021", "import cycle",
     "Files use each other in a cycle, named in the message. Move what both need into a\n"
     "third file that both use.\n"},
    {"E022", "registry not available yet",
     "use registry \"NAME\" version \"V\" will fetch a published circuit; the registry is\n"
     "not available yet. Copy the circuit's file and use it by path.\n"},
    {"E023", "cannot load the model",
     "The model named by `model` (or --model) is not in the models folder ($CIRCUIT_MODELS\n"
     "or models/), or its files cannot be read. The hint says why.\n"},
    {"E024", "file not available to the server",
     "Under `circuit serve`, the compiler reads only files inside the workspace, the standard\n"
     "library and the models folder. `use` of anything else (an absolute path elsewhere, a\n"
     "path that climbs out with .., a symlink that leads out) is refused with this message,\n"
     "whether or not the file exists, so a page talking to the server learns nothing about\n"
     "the disk. Copy the file into the workspace. The command line has no such limit.\n\n"
     "  use \"/home/me/lib/ioi.circuit\"   // refused by the server\n"
     "  use \"lib/ioi.circuit\"            // a copy inside the workspace\n"},
    {"E030", "type mismatch",
     "A value of one kind stands where another is needed: a task where a set of components\n"
     "is wanted, a string where a number is, a list that mixes kinds.\n\n"
     "  patch_sweep(ioi, over: heads *, metric: logit_diff)\n"},
    {"E031", "unknown parameter type",
     "Circuit parameters are int, float, string, head, component, set, circuit, task or\n"
     "metric.\n\n  circuit pair(prev: head, ind: head) { prev -> ind.k }\n"},
    {"E032", "not a function",
     "Only built-in functions and parameterized circuits are called; a built-in function\n"
     "other than a metric is always called with arguments.\n"},
    {"E033", "unknown or extra argument",
     "The call passes an argument the function does not take, or too many. The hint lists\n"
     "what it takes.\n"},
    {"E034", "argument given twice", "An argument is given both by position and by name, or twice by name.\n"},
    {"E035", "wrong number of circuit parameters",
     "A parameterized circuit is instantiated with one value per parameter, in order:\n"
     "  circuit pair(prev: head, ind: head) { prev -> ind.k }\n  circuit mine = pair(head 0.1, head 1.2)\n"},
    {"E036", "missing argument", "The function needs this argument; the hint shows how to add it.\n"},
    {"E037", "bad head input",
     "Only attention heads have inputs .q, .k and .v, and an input is where an edge arrives:\n"
     "  head 0.1 -> head 1.2.k   // prev-token head into the induction head's key\n"},
    {"E038", "position on a non-component", "@ POSITION qualifies components and sets of components.\n"},
    {"E039", "template slot problem",
     "Every {SLOT} of a template needs a vocabulary in slots, every slot must appear in the\n"
     "template, and @ SLOT positions must name a slot of the task they are used with.\n"},
    {"E040", "unknown task property",
     "Task properties: prompts, template, slots, corrupt, answers, wrong, answer,\n"
     "random_tokens, count, seed.\n"},
    {"E041", "task has no single prompt source",
     "A task takes exactly one of prompts: [...], template: \"...\" or random_tokens: N.\n"},
    {"E042", "answer is not a single token",
     "Metrics compare the logits of single tokens, so answers (and the slots they come from)\n"
     "must each be one token in the model's tokenizer. The message shows how the text\n"
     "splits. Names usually need a leading space: \" Mary\".\n"},
    {"E043", "prompts differ in length",
     "Patching lines prompts up position by position, so every instantiation of a template,\n"
     "and each clean prompt and its corrupt prompt, must have the same number of tokens.\n"
     "Pick vocabulary words that are one token each.\n"},
    {"E044", "position token not in every prompt",
     "@ \"TEXT\" picks the position of that token, so every prompt of the task must contain\n"
     "it as one token (with or without a leading space).\n"},
    {"E045", "position past the end of a prompt",
     "@ N counts from the start (0) and @ -N from the end (-1 is the last token); the\n"
     "shortest prompt of the task must be long enough.\n"},
    {"E046", "lists of different lengths",
     "answers, wrong and a corrupt prompt list pair with prompts one to one.\n"},
    {"E047", "second model declaration", "A file runs on one model; --model overrides it.\n"},
    {"E048", "count out of range",
     "A task's count is how many prompts its template or random_tokens makes: 1 to 4096,\n"
     "the most one token batch holds. For more prompts, declare several tasks with\n"
     "different seeds.\n\n  task t { random_tokens: 20, count: 10000 }   // wrong\n"
     "  task t { random_tokens: 20, count: 4096 }    // right\n"},
    {"E050", "no model to lower to",
     "A hook plan holds token ids and hook names, so `circuit compile --emit plan` needs the\n"
     "model (and its tokenizer): declare `model \"NAME\"` or pass --model NAME.\n"},
    {"W001", "unused circuit",
     "A file that runs (declares a model) defines a circuit nothing uses. Library files\n"
     "(without a model) export their circuits and get no such warning.\n"},
    {"W002", "shadowing",
     "A definition hides a built-in function or a name imported with use; later uses of the\n"
     "name mean the local definition.\n"},
    {"W050", "left out of the hook plan",
     "A program runs in stages: the plan holds what can be lowered now, the runtime runs it,\n"
     "and what it measured lets the next stage lower the rest. A selector (`heads 1.* where\n"
     "s > 0.4`, `top(s, 5)`), a circuit found by eap/eap_ig/acdc, and everything built on\n"
     "them (circuits, measures, claims) wait for those measurements, so `circuit compile\n"
     "--emit plan` (stage 1) leaves them out and says which measurement each waits for;\n"
     "`circuit run` lowers them in a later stage. `circuit compile --measured FILE.json`\n"
     "lowers a later stage by hand. The file itself is fine. The warning also names the few\n"
     "constructs that cannot be lowered at all (e.g. add() with a measured vector).\n"},
};

}  // namespace

std::span<const DiagnosticCode> diagnostic_codes() { return kCodes; }

const DiagnosticCode* find_diagnostic_code(std::string_view code) {
  std::string upper;
  for (char ch : code) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  for (const auto& row : kCodes)
    if (row.code == upper) return &row;
  return nullptr;
}

}  // namespace circuit::compiler
