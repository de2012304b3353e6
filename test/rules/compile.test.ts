import { describe, expect, it } from 'vitest';
import { compileRules, type RuleIssue } from '../../src/rules/compile.js';
import type { RuleConfig } from '../../src/rules/config.js';
import { rule, signal, UNCATEGORIZED } from './helpers.js';

function issuesOf(...rules: RuleConfig[]): RuleIssue[] {
  return compileRules(rules, UNCATEGORIZED).issues;
}

function onlyIssue(r: RuleConfig): RuleIssue {
  const issues = issuesOf(r);
  expect(issues).toHaveLength(1);
  return issues[0] as RuleIssue;
}

describe('when: CEL syntax errors', () => {
  it('are reported with the column within the expression', () => {
    const issue = onlyIssue(rule('r', 'target.kind == "server" &&'));
    expect(issue.field).toBe('when');
    expect(issue.index).toBe(0);
    expect(issue.message).toMatch(/^column 25: syntax error: /);
  });

  it('give line and column for a multi-line expression', () => {
    const issue = onlyIssue(rule('r', 'target.kind == "server" &&\n  check.type ==== "icmp"'));
    expect(issue.message).toMatch(/^line 2, column \d+: syntax error: /);
  });

  it('cover an unterminated string', () => {
    expect(onlyIssue(rule('r', 'source == "probe')).message).toMatch(/syntax error/);
  });
});

describe('when: static checks', () => {
  it('rejects an unknown top-level variable and names the known ones', () => {
    const issue = onlyIssue(rule('r', 'tagret.kind == "server"'));
    expect(issue).toEqual({
      index: 0,
      field: 'when',
      message:
        "column 1: undeclared variable 'tagret'; the variables are source, status, message, target, check, values, labels, annotations",
    });
  });

  it('points at the misspelt variable inside a longer expression', () => {
    const issue = onlyIssue(rule('r', 'target.kind == "server" && chek.type == "icmp"'));
    expect(issue.message).toMatch(/^column 28: undeclared variable 'chek'/);
  });

  it('rejects an unknown field of target or check', () => {
    expect(onlyIssue(rule('r', 'target.knd == "server"')).message).toContain(
      "target has no field 'knd'; its fields are id, kind, name, site, labels, depends_on",
    );
    expect(onlyIssue(rule('r', 'check.kind == "icmp"')).message).toContain("check has no field 'kind'");
  });

  it('rejects a field of a string', () => {
    expect(onlyIssue(rule('r', 'source.name == "x"')).message).toContain("source is a string and has no field 'name'");
  });

  it('rejects an unknown function', () => {
    expect(onlyIssue(rule('r', 'lower(target.name) == "x"')).message).toContain("unknown function 'lower'");
  });

  it('rejects comparing a string with a number, naming both sides and their types', () => {
    const issue = onlyIssue(rule('r', 'target.site == 5'));
    expect(issue.message).toContain('cannot compare a string with a number');
    expect(issue.message).toContain("'==' compares target.site (string) with 5 (int)");
  });

  it('rejects a condition that cannot be a boolean', () => {
    expect(onlyIssue(rule('r', 'target.kind')).message).toContain('the condition must be a boolean');
  });

  it('accepts comprehension variables inside their macro only', () => {
    expect(issuesOf(rule('r', 'target.depends_on.all(p, p.startsWith("sw-"))'))).toEqual([]);
    expect(onlyIssue(rule('r', 'target.depends_on.all(p, true) && p == "x"')).message).toContain(
      "undeclared variable 'p'",
    );
  });

  it('accepts any key of the free-form maps', () => {
    expect(issuesOf(rule('r', 'values.anything > 1.0 && labels.x == "y" && annotations.z == "" && target.labels.k == "v"'))).toEqual([]);
  });
});

describe('templates', () => {
  it('report a syntax error in the field it occurs in', () => {
    const issue = onlyIssue(rule('r', 'true', { description: 'down since {{#target.name}}' }));
    expect(issue.field).toBe('description');
    expect(issue.message).toMatch(/^template syntax error: Unclosed section "target.name"/);
    expect(onlyIssue(rule('r', 'true', { title: 'down {{target.name' })).message).toMatch(/template syntax error: Unclosed tag/);
  });

  it('report a name outside the view', () => {
    const issue = onlyIssue(rule('r', 'true', { title: '{{host}} is down' }));
    expect(issue.field).toBe('title');
    expect(issue.message).toContain("unknown template name '{{host}}'");
  });

  it('report an unknown field of a fixed part of the view', () => {
    expect(onlyIssue(rule('r', 'true', { runbook: 'see {{target.hostname}}' }))).toMatchObject({
      field: 'runbook',
      message: expect.stringContaining("target has no field 'hostname'"),
    });
    expect(onlyIssue(rule('r', 'true', { title: '{{classification.urgency}}' })).message).toContain(
      "classification has no field 'urgency'",
    );
    expect(onlyIssue(rule('r', 'true', { title: '{{rule.name}}' })).message).toContain("rule has no field 'name'");
    expect(onlyIssue(rule('r', 'true', { title: '{{message.text}}' })).message).toContain("message is text");
  });

  it('accept any key under values, labels, annotations and target.labels', () => {
    expect(
      issuesOf(rule('r', 'true', { title: '{{values.x}} {{labels.y}} {{annotations.z}} {{target.labels.w}} {{{message}}}' })),
    ).toEqual([]);
  });

  it('reject partials', () => {
    expect(onlyIssue(rule('r', 'true', { runbook: '{{> common}}' })).message).toContain('partials are not supported');
  });
});

describe('dedup_by', () => {
  it('rejects fields that change with every signal', () => {
    for (const path of ['status', 'message']) {
      const issue = onlyIssue(rule('r', 'true', { dedupBy: ['target.id', path] }));
      expect(issue.field).toBe('dedup_by');
      expect(issue.message).toContain(`'${path}' changes from one signal to the next`);
    }
  });

  it('rejects unknown paths and lists the allowed ones', () => {
    const issue = onlyIssue(rule('r', 'true', { dedupBy: ['target.ip'] }));
    expect(issue.message).toContain("unknown dedup path 'target.ip'");
    expect(issue.message).toContain('labels.<name>');
    expect(onlyIssue(rule('r', 'true', { dedupBy: ['labels.'] })).message).toContain("unknown dedup path 'labels.'");
  });

  it('accepts every documented path', () => {
    const dedupBy = [
      'source', 'target.id', 'target.kind', 'target.name', 'target.site', 'target.labels.room',
      'check.name', 'check.type', 'rule.id', 'labels.alertname', 'annotations.summary', 'values.port',
    ];
    expect(issuesOf(rule('r', 'true', { dedupBy }))).toEqual([]);
  });
});

describe('issues across rules', () => {
  it('are all reported, with the index of each rule, and bad rules are left out of the engine', () => {
    const { engine, issues } = compileRules(
      [
        rule('ok-1', 'target.kind == "printer"'),
        rule('bad-when', 'tagret.kind == "x"', { title: '{{nope}}' }),
        rule('ok-2', 'true'),
        rule('bad-dedup', 'true', { dedupBy: ['message'] }),
      ],
      UNCATEGORIZED,
    );
    expect(issues.map((i) => [i.index, i.field])).toEqual([
      [1, 'when'],
      [1, 'title'],
      [3, 'dedup_by'],
    ]);
    expect(engine.ruleCount).toBe(2);
    expect(engine.classify(signal()).map((m) => m.ruleId)).toEqual(['ok-2']);
  });
});

describe('when: a measurement ordered against a number in quotes', () => {
  it('is an error at the operator, naming the measurement, both types and the fix', () => {
    const issue = onlyIssue(rule('r', 'check.type == "tcp" && values.connectMs > "100"'));
    expect(issue.field).toBe('when');
    expect(issue.message).toBe(
      "column 41: '>' compares values.connectMs (a measurement: double when the signal carries a number, as probes record them) " +
        'with a string ("100"), so the rule never matches; write 100 without quotes',
    );
  });

  it('is found with the index syntax, the number on the left, and decimals', () => {
    expect(onlyIssue(rule('r', 'values["rttMs"] >= "2.5"')).message).toContain(`compares values["rttMs"] (a measurement`);
    expect(onlyIssue(rule('r', '"10" < values.tonerPercent')).message).toContain('write 10 without quotes');
  });

  it('leaves alone what can be right: equality with text, text that is no number, numbers without quotes', () => {
    expect(issuesOf(rule('r', 'values.deviceStatus == "down"'))).toEqual([]);
    expect(issuesOf(rule('r', 'values.severity != "1"'))).toEqual([]);
    expect(issuesOf(rule('r', 'values.version > "v2"'))).toEqual([]);
    expect(issuesOf(rule('r', 'values.connectMs > 100'))).toEqual([]);
    // A comprehension variable called values is not the signal's measurements.
    expect(issuesOf(rule('r', 'labels.all(values, values > "1")'))).toEqual([]);
  });
});
