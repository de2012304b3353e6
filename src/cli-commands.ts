// Command line: run the daemon, validate files, and explain or test rules without touching a store.
// Only what every command needs is imported here; a command imports the rest when it runs, so that
// `run` starts reading the probe files before the daemon's other modules load (see main.ts).
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { text as readStream } from 'node:stream/consumers';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import type { ConfigPaths, LoadOptions } from './config/load.js';
import { formatExplanation } from './rules/explain-format.js';
import { runRuleTests } from './rules/rule-tests.js';
import { parseSignalFile } from './rules/signal-file.js';
import { ConfigError, formatIssue } from './shared/errors.js';
import { checkLogSettingsOrExit, DEFAULT_PATHS, runCommand, type RunOptions } from './cli-run.js';
import { silenceCommand } from './silence-cli.js';
import { storeCommand } from './store-cli.js';
import { usersCommand } from './users-cli.js';

interface PathOpts {
  config: string;
  probes: string;
  rules: string;
}

function withPaths(cmd: Command): Command {
  return cmd
    .option('--config <file>', 'daemon configuration', DEFAULT_PATHS.config)
    .option('--probes <dir>', 'folder of probe files', DEFAULT_PATHS.probes)
    .option('--rules <dir>', 'folder of rule files', DEFAULT_PATHS.rules);
}

function paths(o: PathOpts): ConfigPaths {
  return { config: o.config, probesDir: o.probes, rulesDir: o.rules };
}

/** Loads config or prints every problem and exits 1. */
async function loadOrExit(o: PathOpts, opts: LoadOptions = {}) {
  const { loadConfig } = await import('./config/load.js');
  try {
    return await loadConfig(paths(o), process.env, opts);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      const hint = defaultPathsHint(o);
      if (hint) process.stderr.write(`${hint}\n`);
      process.exit(1);
    }
    throw err;
  }
}

/**
 * Run outside the folder that holds config/, probes/ and rules/, the default paths (the same for
 * every command, `run` included) name nothing: say where they were looked for and how to point them.
 */
function defaultPathsHint(o: PathOpts): string | null {
  const absent = [o.config, o.probes, o.rules].filter((p) => !path.isAbsolute(p) && !existsSync(p));
  if (absent.length === 0) return null;
  return (
    `incidentd: ${absent.join(', ')} not found under ${process.cwd()}: paths are relative to the current folder, ` +
    'so run from the folder that holds config/, probes/ and rules/, or pass --config, --probes and --rules'
  );
}

/**
 * The version in incidentd's package.json: two folders up from the compiled dist/src/cli.js, one
 * up from src/cli.ts run through tsx.
 */
function packageVersion(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 3; i++) {
    const file = path.join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'incidentd' && pkg.version) return pkg.version;
    }
    dir = path.dirname(dir);
  }
  return 'unknown (package.json not found next to the program)';
}

const program = new Command('incidentd')
  .description('Monitoring-driven auto-incident daemon')
  .version(packageVersion(), '-V, --version', 'print the version and exit')
  .showHelpAfterError();

// The commands that log check LOG_LEVEL and the log format before anything starts: one line,
// exit 2, no stack.
program.hook('preAction', (_program, action) => {
  if (action.name() !== 'run' && action.name() !== 'demo') return;
  checkLogSettingsOrExit(action.opts<{ logFormat?: string }>().logFormat);
});

const LOG_FORMAT_HELP = 'log lines as json or pretty (default: pretty on a terminal, else json; or LOG_FORMAT)';

withPaths(program.command('run').description('run the daemon (probes, alert endpoints, API); SIGHUP reloads the files'))
  .option('--log-format <format>', LOG_FORMAT_HELP)
  .action((o: RunOptions) => runCommand(o));

withPaths(program.command('validate').description('check every config, probe, rule and rule test file; exit 1 on any error')).action(
  async (o: PathOpts) => {
    const cfg = await loadOrExit(o, { ruleTests: true });
    for (const w of cfg.warnings) process.stderr.write(`${formatIssue({ ...w, message: `warning: ${w.message}` })}\n`);
    const checks = cfg.targets.reduce((n, t) => n + t.checks.length, 0);
    process.stdout.write(
      `ok: ${cfg.files.length} files, ${cfg.targets.length} targets, ${checks} checks, ${cfg.engine.ruleCount} rules\n`,
    );
  },
);

program
  .command('demo')
  .description(
    'simulate an access point, a printer and a mail server on 127.0.0.1, watch them with a throw-away config, ' +
      'and break and repair them on a timer (Ctrl-C stops)',
  )
  .option('--speed <factor>', 'time-lapse: 5 runs probes and scenario five times as fast', '1')
  .option('--port <port>', 'API port (default: a free one)')
  .option('--dir <folder>', 'keep config, probes, rules and database in this folder (default: a temp folder, removed at exit)')
  .option('--log-format <format>', LOG_FORMAT_HELP)
  .action(async (o: { speed: string; port?: string; dir?: string; logFormat?: string }) => {
    const { demoCommand } = await import('./demo/command.js');
    process.exitCode = await demoCommand(o);
  });

program.addCommand(silenceCommand());
program.addCommand(usersCommand());
program.addCommand(storeCommand());

const rules = program.command('rules').description('work with rule files');

withPaths(rules.command('explain').argument('<signal.json>', 'a signal as JSON, or - to read it from stdin (e.g. examples/signal.json)'))
  .description(
    'show which rule classifies a signal, why the ones before it did not, and which later rules it shadows (nothing is stored)',
  )
  .action(async (file: string, o: PathOpts) => {
    let text: string;
    try {
      text = file === '-' ? await readStream(process.stdin) : await readFile(file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? `no such file (looked in ${process.cwd()})` : (err as Error).message;
      process.stderr.write(`${file}: ${why}\n`);
      process.exit(1);
    }
    const parsed = parseSignalFile(text, file);
    if (!parsed.ok) {
      for (const line of parsed.errors) process.stderr.write(`${line}\n`);
      process.exit(1);
    }
    const cfg = await loadOrExit(o);
    process.stdout.write(formatExplanation(parsed.signal, cfg.engine.explain(parsed.signal)) + '\n');
  });

withPaths(rules.command('test'))
  .description('run the rule unit tests in <rules>/tests/*.yaml; exit 1 on any mismatch')
  .action(async (o: PathOpts) => {
    const cfg = await loadOrExit(o, { ruleTests: true });
    const { loadRuleTests } = await import('./config/load.js');
    let files;
    try {
      files = await loadRuleTests(o.rules);
    } catch (err) {
      if (err instanceof ConfigError) {
        process.stderr.write(`${err.message}\n`);
        process.exit(1);
      }
      throw err;
    }
    const results = runRuleTests(cfg.engine, files);
    let failed = 0;
    for (const r of results) {
      if (r.passed) {
        process.stdout.write(`PASS ${r.file}: ${r.name}\n`);
      } else {
        failed++;
        process.stdout.write(`FAIL ${r.file}: ${r.name}\n`);
        for (const f of r.failures) process.stdout.write(`     ${f}\n`);
      }
    }
    process.stdout.write(`${results.length - failed} passed, ${failed} failed\n`);
    if (results.length === 0) process.stdout.write(`no rule tests found in ${o.rules}/tests/\n`);
    if (failed > 0) process.exitCode = 1;
  });

await program.parseAsync(process.argv);
