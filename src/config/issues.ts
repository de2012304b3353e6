// The list every loader step adds its problems to, reported in file order, then line and column.
import type { ConfigIssue } from '../shared/errors.js';

/** Collects issues per file so they can be reported in file order, then line and column. */
export class IssueList {
  private readonly fileOrder = new Map<string, number>();
  private readonly items: ConfigIssue[] = [];

  file(file: string): void {
    if (!this.fileOrder.has(file)) this.fileOrder.set(file, this.fileOrder.size);
  }

  add(...issues: ConfigIssue[]): void {
    this.addAll(issues);
  }

  /** Like add, for lists of any length (a spread of 100,000 issues would overflow the stack). */
  addAll(issues: readonly ConfigIssue[]): void {
    for (const i of issues) {
      this.file(i.file);
      this.items.push(i);
    }
  }

  get length(): number {
    return this.items.length;
  }

  /** Every file in the order first seen. */
  files(): string[] {
    return [...this.fileOrder.keys()];
  }

  sorted(): ConfigIssue[] {
    const order = (f: string) => this.fileOrder.get(f) ?? Number.MAX_SAFE_INTEGER;
    return [...this.items].sort((a, b) => order(a.file) - order(b.file) || a.line - b.line || a.column - b.column);
  }
}
