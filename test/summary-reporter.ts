// Prints one plain closing line, "N passed, N failed, N skipped", that CI systems read.
import type { Reporter, RunnerTask, RunnerTestFile } from 'vitest';

function count(tasks: RunnerTask[], acc: { passed: number; failed: number; skipped: number }) {
  for (const t of tasks) {
    if (t.type === 'suite') count(t.tasks, acc);
    else if (t.mode === 'skip' || t.mode === 'todo') acc.skipped++;
    else if (t.result?.state === 'pass') acc.passed++;
    else if (t.result?.state === 'fail') acc.failed++;
  }
  return acc;
}

export default class SummaryReporter implements Reporter {
  onFinished(files: RunnerTestFile[] = [], errors: unknown[] = []): void {
    const c = count(files, { passed: 0, failed: 0, skipped: 0 });
    // A file that failed to load has no tasks; count it as a failure so the line never lies.
    const broken = files.filter((f) => f.result?.state === 'fail' && f.tasks.length === 0).length;
    process.stdout.write(`\n${c.passed} passed, ${c.failed + broken + errors.length} failed, ${c.skipped} skipped\n`);
  }
}
