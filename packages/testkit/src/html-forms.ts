/** A `<form>` found in an HTML page, with the values of its named inputs. */
export interface HtmlForm {
  id: string | undefined;
  /** The `action` attribute, entity-decoded (may be relative). */
  action: string;
  method: string;
  /** name → value of every `<input>` that has a name (value "" when absent). */
  fields: Record<string, string>;
}

const ENTITIES: Record<string, string> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
};

export function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|\w+);/gi, (match, entity: string) => {
    const lower = entity.toLowerCase();
    if (lower.startsWith("#x")) return String.fromCodePoint(Number.parseInt(lower.slice(2), 16));
    if (lower.startsWith("#")) return String.fromCodePoint(Number.parseInt(lower.slice(1), 10));
    return ENTITIES[lower] ?? match;
  });
}

/** Attributes of one tag (`name="value"` or `name='value'`; bare attributes are skipped). */
export function parseAttributes(tagBody: string): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const match of tagBody.matchAll(/([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
    const [, name, doubleQuoted, singleQuoted] = match;
    if (name) attributes[name.toLowerCase()] = decodeEntities(doubleQuoted ?? singleQuoted ?? "");
  }
  return attributes;
}

/**
 * The forms of a page. Good enough for oidc-provider's dev interaction, device and
 * form_post pages, which are simple server-rendered HTML; not a general HTML parser.
 */
export function parseForms(html: string): HtmlForm[] {
  const forms: HtmlForm[] = [];
  for (const match of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const attributes = parseAttributes(match[1] ?? "");
    const fields: Record<string, string> = {};
    for (const input of (match[2] ?? "").matchAll(/<input\b([^>]*)>/gi)) {
      const inputAttributes = parseAttributes(input[1] ?? "");
      if (inputAttributes.name) fields[inputAttributes.name] = inputAttributes.value ?? "";
    }
    forms.push({
      id: attributes.id,
      action: attributes.action ?? "",
      method: (attributes.method ?? "get").toUpperCase(),
      fields,
    });
  }
  return forms;
}

/** The `href` of the first link whose target path ends with `suffix`, decoded. */
export function findLink(html: string, suffix: string): string | undefined {
  for (const match of html.matchAll(/<a\b([^>]*)>/gi)) {
    const href = parseAttributes(match[1] ?? "").href;
    if (href && new URL(href, "http://x").pathname.endsWith(suffix)) return href;
  }
  return undefined;
}
