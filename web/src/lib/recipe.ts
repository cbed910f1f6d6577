// Recipes (a guild's currencies, zones, rules, milestones and renamed terms
// as one JSON or YAML document): what the preview and apply endpoints answer, and the
// helpers the Recipes page needs to show a "differs" item side by side.

import { lineOf as jsonLineOf } from './jsonpath';

/** What an import does to one kind of thing, by key (code, name or key). */
export interface RecipeSection {
	create: string[];
	same: string[]; // present as the recipe has it
	differs: string[]; // present, not as the recipe has it: kept as it is
}

export const SECTIONS = ['currencies', 'zones', 'rules', 'milestones', 'taxonomy'] as const;
export type SectionName = (typeof SECTIONS)[number];

/** The dashboard calls milestones achievements. */
export const SECTION_LABEL: Record<SectionName, { title: string; one: string; many: string; icon: string }> = {
	currencies: { title: 'Currencies', one: 'currency', many: 'currencies', icon: '◎' },
	zones: { title: 'Zones', one: 'zone', many: 'zones', icon: '⬡' },
	rules: { title: 'Rules', one: 'rule', many: 'rules', icon: '⚙' },
	milestones: { title: 'Achievements', one: 'achievement', many: 'achievements', icon: '✦' },
	taxonomy: { title: 'Terms', one: 'term', many: 'terms', icon: 'Aa' } // the community's words for Synapse's terms
};

/** What a preview or an apply answers; a section an older API does not know is absent. */
export type RecipePlan = Partial<Record<SectionName, RecipeSection>> & { warnings: string[]; applied: boolean };

const EMPTY: RecipeSection = { create: [], same: [], differs: [] };

export function sectionOf(p: RecipePlan, s: SectionName): RecipeSection {
	return p[s] ?? EMPTY;
}

/** "3 zones", "1 rule". */
export function countOf(section: SectionName, n: number): string {
	const l = SECTION_LABEL[section];
	return `${n} ${n === 1 ? l.one : l.many}`;
}

/** What applying the plan creates, as "1 zone, 2 rules" (empty when nothing). */
export function createSummary(p: RecipePlan): string {
	return SECTIONS.filter((s) => sectionOf(p, s).create.length > 0)
		.map((s) => countOf(s, sectionOf(p, s).create.length))
		.join(', ');
}

export function totals(p: RecipePlan): { create: number; same: number; differs: number } {
	const t = { create: 0, same: 0, differs: 0 };
	for (const s of SECTIONS) {
		const sec = sectionOf(p, s);
		t.create += sec.create.length;
		t.same += sec.same.length;
		t.differs += sec.differs.length;
	}
	return t;
}

/** A document that starts with "{" is JSON, as the API decides; anything else is YAML. */
export function isJSON(text: string): boolean {
	return text.trimStart().startsWith('{');
}

export function contentType(text: string): string {
	return isJSON(text) ? 'application/json' : 'application/yaml';
}

type Doc = Partial<Record<Exclude<SectionName, 'taxonomy'>, Record<string, unknown>[]>> & { taxonomy?: Record<string, Record<string, unknown>> };

/** Reads a recipe in the browser (YAML through js-yaml, loaded only when needed). */
export async function parseRecipe(text: string): Promise<Doc> {
	if (isJSON(text)) return JSON.parse(text);
	const { load } = await import('js-yaml');
	const doc = load(text);
	if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new Error('not a YAML mapping');
	return doc as Doc;
}

const KEY: Record<Exclude<SectionName, 'taxonomy'>, string> = { currencies: 'code', zones: 'name', rules: 'key', milestones: 'key' };

/**
 * The item of a section with that key. A rule the guild has without a key
 * is exported under a key made from its name, and an import matches it by
 * name: `byName` finds it when the key does not.
 */
export function itemOf(doc: Doc, section: SectionName, key: string, byName?: string): Record<string, unknown> | undefined {
	if (section === 'taxonomy') {
		// Terms are a map: term → its label ({one, many}).
		const t = doc.taxonomy;
		return t && typeof t === 'object' && !Array.isArray(t) ? t[key] : undefined;
	}
	const items = Array.isArray(doc[section]) ? doc[section]! : [];
	return items.find((i) => i?.[KEY[section]] === key) ?? (byName !== undefined ? items.find((i) => i?.name === byName) : undefined);
}

/**
 * Whether a value, as diff.ts shows it, is a zero value: the API leaves
 * those out of what it exports (Go's omitempty), so a field that is zero on
 * one side and absent on the other is most often no difference at all.
 */
export function isZeroShown(v: string): boolean {
	return ['0', 'false', '""', 'null', '[]', '{}'].includes(v);
}

/**
 * Where each path ("rules[2].conditions[0].type") of a block-style YAML
 * document starts: a 1-based line. Block mappings and sequences, as the
 * API writes recipes (a sequence may sit at its key's indentation); flow
 * collections and multi-line scalars are leaves.
 */
export function locateYAML(text: string): Map<string, number> {
	const at = new Map<string, number>();
	type Frame = { col: number; path: string; item: boolean };
	const stack: Frame[] = [];
	const counters = new Map<string, number>();
	let blockCol = -1; // inside a | or > scalar started by a key at this column
	const join = (parent: string, key: string) => (parent ? `${parent}.${key}` : key);
	const lines = text.split('\n');
	for (let n = 0; n < lines.length; n++) {
		const raw = lines[n].replace(/\t/g, '  ');
		const trimmed = raw.trim();
		let col = raw.length - raw.trimStart().length;
		if (blockCol >= 0) {
			if (trimmed === '' || col > blockCol) continue;
			blockCol = -1;
		}
		if (trimmed === '' || trimmed.startsWith('#') || trimmed === '---' || trimmed === '...') continue;
		let rest = raw.slice(col);
		// "- - key: v": each dash opens an item one level deeper.
		for (;;) {
			if (rest === '-' || rest.startsWith('- ')) {
				while (stack.length && (stack[stack.length - 1].col > col || (stack[stack.length - 1].col === col && stack[stack.length - 1].item))) stack.pop();
				const parent = stack.length ? stack[stack.length - 1].path : '';
				const ck = `${parent}@${col}`;
				const i = counters.get(ck) ?? 0;
				counters.set(ck, i + 1);
				const path = `${parent}[${i}]`;
				if (!at.has(path)) at.set(path, n + 1);
				stack.push({ col, path, item: true });
				const after = rest.slice(1);
				const pad = after.length - after.trimStart().length;
				col += 1 + pad;
				rest = after.trimStart();
				if (rest === '') break;
				continue;
			}
			const m = rest.match(/^("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s#'"{[][^:#]*?)\s*:(?:\s+(.*))?$/);
			if (m) {
				let key = m[1];
				if (key.startsWith('"')) key = JSON.parse(key);
				else if (key.startsWith("'")) key = key.slice(1, -1).replace(/''/g, "'");
				while (stack.length && stack[stack.length - 1].col >= col) stack.pop();
				const parent = stack.length ? stack[stack.length - 1].path : '';
				const path = join(parent, key.trim());
				at.set(path, n + 1);
				stack.push({ col, path, item: false });
				const value = (m[2] ?? '').trim();
				if (/^[|>][0-9+-]*(\s+#.*)?$/.test(value)) blockCol = col;
			}
			break;
		}
	}
	return at;
}

/** The 1-based line a recipe error's field points at, JSON or YAML, trying shorter paths. */
export function recipeLineOf(text: string, field: string | undefined, message = ''): number | null {
	// Until the API names the path of an unknown field, find the field's name in the text.
	const unknown = message.match(/unknown field "([^"]+)"/)?.[1];
	if ((!field || field === 'recipe') && unknown) {
		const re = isJSON(text) ? new RegExp(`"${escapeRe(unknown)}"\\s*:`) : new RegExp(`^\\s*(?:- )*["']?${escapeRe(unknown)}["']?\\s*:`);
		const i = text.split('\n').findIndex((l) => re.test(l));
		return i >= 0 ? i + 1 : null;
	}
	// A YAML syntax error says where: "[line:column]" of the trimmed document.
	const at = message.match(/^is neither JSON nor YAML: \[(\d+):\d+\]/);
	if ((!field || field === 'recipe') && at) return Number(at[1]) + text.slice(0, text.length - text.trimStart().length).split('\n').length - 1;
	if (!field || field === 'recipe') return null;
	if (isJSON(text)) return jsonLineOf(text, field);
	const lines = locateYAML(text);
	let q = field;
	for (;;) {
		if (lines.has(q)) return lines.get(q)!;
		const cut = Math.max(q.lastIndexOf('.'), q.lastIndexOf('['));
		if (cut <= 0) return null;
		q = q.slice(0, cut);
	}
}

function escapeRe(s: string): string {
	return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
