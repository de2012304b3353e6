// A target without a site reads as one in the helpdesk texts (issue 13: "site )").
import { describe, expect, it } from 'vitest';
import { notificationView, compileTemplate } from '../../src/notify/render.js';
import { DEFAULT_EMAIL_TEMPLATES } from '../../src/notify/templates/email.js';
import { event, incident } from './fixtures.js';

const render = (name: 'text' | 'html', site: string) => {
  const inc = incident({ target: { id: 'printer-3f', kind: 'printer', name: 'Printer 3F', site, labels: {} } });
  return compileTemplate(name, 'default', DEFAULT_EMAIL_TEMPLATES[name], { html: name === 'html' }).render(notificationView(event('incident.opened', inc)));
};

describe('the target line of the ticket mail', () => {
  it('names the site when there is one and leaves it out when there is none', () => {
    expect(render('text', 'hq')).toMatch(/Target: +Printer 3F \(printer printer-3f, site hq\)\n/);
    expect(render('text', '')).toMatch(/Target: +Printer 3F \(printer printer-3f\)\n/);
    expect(render('html', '')).toContain('<td>Printer 3F (printer printer-3f)</td>');
    expect(render('html', '')).not.toMatch(/site \)/);
  });
});
