// `incidentd store vacuum`: rewrites the embedded store's SQLite file with the daemon stopped (see
// src/store/sqlite/vacuum.ts). Every failure is one line on stderr and exit code 1.
import { Command } from 'commander';
import { IncidentdError, InstanceLockedError, StoreUnavailableError } from './shared/errors.js';
// The configuration is read as the users CLI reads it: its problems are UsersCliErrors.
import { configuredStore, UsersCliError } from './users-cli.js';

export class StoreCliError extends IncidentdError {}

const DEFAULT_CONFIG = 'config/incidentd.yaml';

function size(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function pages(bytes: number): string {
  return `${bytes / 1024} KiB`;
}

export function storeCommand(env: NodeJS.ProcessEnv = process.env): Command {
  const store = new Command('store').description('maintain the configured store');

  store
    .command('vacuum')
    .description(
      'rewrite the SQLite file with the daemon stopped: a file from before 16 KiB pages gets them, and free pages go back to the file system',
    )
    .option('--config <file>', 'daemon configuration, read for its store', DEFAULT_CONFIG)
    .action(async (o: { config: string }) => {
      try {
        const cfg = await configuredStore(o.config, env);
        if (cfg.type !== 'sqlite') {
          throw new StoreCliError(
            "the configured store is MongoDB (store.type or MONGODB_URI); `incidentd store vacuum` rewrites the embedded SQLite store's file, MongoDB compacts with its own `compact` command",
          );
        }
        const { vacuumSqliteFile } = await import('./store/sqlite/vacuum.js');
        const started = Date.now();
        const r = vacuumSqliteFile(cfg.path);
        const seconds = ((Date.now() - started) / 1000).toFixed(1);
        const pageNote = r.pageSizeBefore === r.pageSizeAfter ? `${pages(r.pageSizeAfter)} pages` : `pages ${pages(r.pageSizeBefore)} → ${pages(r.pageSizeAfter)}`;
        process.stdout.write(`vacuumed ${cfg.path}: ${pageNote}, ${size(r.bytesBefore)} → ${size(r.bytesAfter)} (with its -wal file) in ${seconds} s\n`);
      } catch (err) {
        if (!(err instanceof StoreCliError || err instanceof UsersCliError || err instanceof InstanceLockedError || err instanceof StoreUnavailableError)) throw err;
        process.stderr.write(`incidentd: ${err.message}\n`);
        process.exitCode = 1;
      }
    });
  return store;
}
