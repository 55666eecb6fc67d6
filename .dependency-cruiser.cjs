/**
 * Architecture rules, checked by `npm run lint` (depcruise). Product code only: tests and generated code
 * may reach across on purpose.
 */
module.exports = {
  forbidden: [
    {
      name: 'controller-not-agent',
      comment: 'The controller and the agent are separate daemons; what both need lives in shared/.',
      severity: 'error',
      from: { path: '^controller/' },
      to: { path: '^agent/' },
    },
    {
      name: 'agent-not-controller',
      comment: 'The agent runs on instruments and must not load controller code; what both need lives in shared/.',
      severity: 'error',
      from: { path: '^agent/' },
      to: { path: '^controller/' },
    },
    {
      name: 'shared-is-a-leaf',
      comment: 'shared/ is what both daemons import; it imports neither.',
      severity: 'error',
      from: { path: '^shared/' },
      to: { path: '^(agent|controller)/' },
    },
    {
      name: 'transports-through-the-service',
      comment:
        'The web console and the CLI reach the database only through the service layer (controller/service/), never the store or the audit log directly.',
      severity: 'error',
      from: { path: '^controller/(web|cli)/' },
      // Type-only imports name domain records and touch nothing; the audit file format (hashing,
      // export parsing, chain checking of records in hand) is what `audit verify --file` runs offline.
      to: {
        path: '^controller/(store|audit)/',
        pathNot: '^controller/audit/(canonical|export-format|verify)\\.ts$',
        dependencyTypesNot: ['type-only'],
      },
    },
    {
      name: 'no-folder-cycles-in-controller',
      comment: 'Folders inside controller/ depend on each other one way only.',
      severity: 'error',
      scope: 'folder',
      from: { path: '^controller/' },
      to: { path: '^controller/', circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['(^|/)node_modules/', '\\.test\\.ts$', '^shared/gen/', '^dist/', '^controller/web/ui/'] },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
