// Circuit.g4: the grammar of the .circuit language (the grammar stage; the compiler's
// parse/ stage turns its parse trees into circuit::compiler AST nodes, and nothing later sees
// ANTLR). Newlines are not significant; `//` comments are skipped, `///` doc comments go to
// their own channel and are attached to the next declaration.
grammar Circuit;

file : item* EOF ;

item
  : modelDecl
  | useDecl
  | letDecl
  | circuitDecl
  | taskDecl
  | expectDecl
  ;

modelDecl   : 'model' STRING ;
useDecl     : 'use' STRING                                   # useFile
            | 'use' 'registry' STRING ('version' STRING)?    # useRegistry
            ;
letDecl     : 'let' ID '=' expr ;
circuitDecl : 'circuit' ID paramList? ( '=' expr | '{' bodyItem* '}' ) ;
paramList   : '(' (param (',' param)* ','?)? ')' ;
param       : ID ':' type=(ID | 'head') ;
bodyItem    : expr ','? ;
taskDecl    : 'task' ID '{' property* '}' ;
property    : ID ':' expr ','? ;
expectDecl  : 'expect' expr comparator expr ;

comparator  : '>' | '>=' | '<' | '<=' | '==' | '!=' ;

// Operators, tightest first: member (.q), position (@), set difference, intersection, union,
// selection (where), path (->), scoping (on).
expr
  : expr '.' ID                               # memberExpr
  | expr '@' position                         # atExpr
  | expr '-' expr                             # differenceExpr
  | expr '&' expr                             # intersectExpr
  | expr '|' expr                             # unionExpr
  | expr 'where' primary comparator primary   # whereExpr
  | expr '->' expr                            # pathExpr
  | expr 'on' expr                            # onExpr
  | primary                                   # primaryExpr
  ;

primary
  : component                                 # componentPrimary
  | ID '(' (argument (',' argument)* ','?)? ')'  # callPrimary
  | ID                                        # namePrimary
  | STRING                                    # stringPrimary
  | '-'? (INT | FLOAT)                        # numberPrimary
  | INT '..' INT                              # rangePrimary
  | ('true' | 'false')                        # boolPrimary
  | '[' (expr (',' expr)* ','?)? ']'          # listPrimary
  | '{' (entry (',' entry)* ','?)? '}'        # recordPrimary
  | '(' expr ')'                              # parenPrimary
  ;

argument : (label ':')? expr ;
entry    : label ':' expr ;
// Argument and record labels may be keywords: `cache(task: t)`, `attention(t, heads: ...)`.
label    : ID | 'task' | 'model' | 'circuit' | 'head' | 'heads' | 'mlp' | 'attn' | 'neuron' | 'resid'
         | 'embed' | 'logits' | 'kv_head' | 'use' | 'let' | 'expect' | 'registry' | 'version' ;

// A component: its kind, then an address whose shape the front end checks per kind
// (head 9.6, heads 9.*, mlp 3, neuron 3.1021, resid 5 pre, embed, logits).
component
  : kind=('head' | 'heads' | 'kv_head' | 'mlp' | 'attn' | 'neuron') address   # indexedComponent
  | 'resid' address point=ID                                                 # residComponent
  | kind=('embed' | 'logits')                                                # wholeComponent
  ;
address   : FLOAT | addressPart ('.' addressPart)? ;
addressPart : INT | ID | '*' ;

position : '-'? INT | STRING | ID ;

STRING : '"' ( ~["\\\r\n] | '\\' . )* '"' ;
UNTERMINATED_STRING : '"' ( ~["\\\r\n] | '\\' . )* ;
FLOAT  : [0-9]+ '.' [0-9]+ ([eE] [+-]? [0-9]+)? | [0-9]+ [eE] [+-]? [0-9]+ ;
INT    : [0-9]+ ;
ID     : [a-zA-Z_] [a-zA-Z_0-9]* ;

DOC_COMMENT  : '///' ~[\r\n]* -> channel(2) ;
LINE_COMMENT : '//' ~[\r\n]* -> channel(HIDDEN) ;
BLOCK_COMMENT : '/*' .*? '*/' -> channel(HIDDEN) ;
WS : [ \t\r\n]+ -> skip ;
BAD_CHAR : . ;
