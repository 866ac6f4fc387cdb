// The words of the .circuit grammar, read from grammar/*.g4 at build time
// (webview/build/grammar_keywords.ts).
declare module 'virtual:circuit-grammar' {
  const words: {
    keywords: string[];
    componentKinds: string[];
    atoms: string[];
    operators: string[];
  };
  export default words;
}
