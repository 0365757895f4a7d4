// The import rules `npm run lint` enforces (CONTRIBUTING.md draws them):
//   core ← adapters ← runtime ← doors (HTTP, console, stream, CLIs), and models/ (simulation,
//   training, evaluation) on top of services/, never the other way.
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'No import cycle between files.',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    tsConfig: { fileName: 'tsconfig.json' },
    // Type-only imports count: a cycle through types is still a cycle for the reader.
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|\\.scratch|\\.leakguard)/' },
  },
};
