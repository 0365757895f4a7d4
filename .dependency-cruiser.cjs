// The import rules `npm run lint` enforces (CONTRIBUTING.md draws them):
//   core ← domain ← adapters ← runtime ← doors (HTTP, console, stream, CLIs),
//   and models/ (simulation, training, evaluation) on top of services/, never the other way.
// load-tests/, test/ and scripts/ may import anything; no file may be part of an import cycle.
const CORE = '^services/core/';
/** Use cases and the model's serving side: the ports (interfaces) adapters implement live here. */
const DOMAIN = '^services/(cases|auth|watchlist|model|breach|webhooks|recording)/';
const ADAPTERS = '^services/adapters/';
/** The composition root: the only place that picks adapters, plus the settings it reads. */
const RUNTIME =
  '^services/(runtime|case-system|webhook-system|config|watchlist-registry|card-keys|data-keys|audit-key|demo-credentials)\\.ts$';
const DOORS = '^(services/(http|console|cli)/|services/main\\.ts$|streams/)';

const layer = (name, from, forbidden, comment) => ({
  name,
  comment,
  severity: 'error',
  from: { path: from },
  to: { path: forbidden.join('|') },
});

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'No import cycle between files.',
      from: {},
      to: { circular: true },
    },
    layer(
      'core-is-pure',
      CORE,
      ['^services/(?!core/)', '^streams/', '^models/'],
      'The core imports only the core (and libraries).',
    ),
    layer(
      'domain-below-adapters',
      DOMAIN,
      [ADAPTERS, RUNTIME, DOORS, '^models/'],
      'Use cases name ports; adapters implement them.',
    ),
    layer(
      'adapters-below-runtime',
      ADAPTERS,
      [RUNTIME, DOORS, '^models/'],
      'Adapters never reach up to the runtime or a door.',
    ),
    layer('runtime-below-doors', RUNTIME, [DOORS, '^models/'], 'The runtime is what doors are built on.'),
    layer(
      'services-below-models',
      '^(services|streams)/',
      ['^models/'],
      'models/ trains and evaluates on top of services/.',
    ),
  ],
  options: {
    tsConfig: { fileName: 'tsconfig.json' },
    // Type-only imports count: a cycle through types is still a cycle for the reader.
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|\\.scratch|\\.leakguard)/' },
  },
};
