/**
 * Handlebars shells: templates only bind precomputed values (no arithmetic), rendered in strict mode so a missing
 * field is an error rather than an empty string in the Verilog.
 */
import Handlebars from 'handlebars';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const templatesDir = fileURLToPath(new URL('../../templates/', import.meta.url));
const hb = Handlebars.create();
const compiled = new Map<string, Handlebars.TemplateDelegate>();

/** Renders `templates/<name>.hbs` with `view`. */
export function render(name: string, view: object): string {
  let template = compiled.get(name);
  if (!template) {
    template = hb.compile(readFileSync(`${templatesDir}${name}.hbs`, 'utf8'), { strict: true, noEscape: true });
    compiled.set(name, template);
  }
  return template(view);
}
