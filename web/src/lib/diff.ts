// Key-by-key difference of two JSON documents, for the audit log.

export type DiffRow =
	| { kind: 'added'; path: string; after: string }
	| { kind: 'removed'; path: string; before: string }
	| { kind: 'changed'; path: string; before: string; after: string };

function isObj(v: unknown): v is Record<string, unknown> {
	return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function show(v: unknown): string {
	return typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v) ?? 'null';
}

/** Flattens objects into dotted paths; arrays and scalars are leaves. */
export function flatten(v: unknown, prefix = '', out: Map<string, unknown> = new Map()): Map<string, unknown> {
	if (isObj(v)) {
		const keys = Object.keys(v);
		if (keys.length === 0 && prefix) out.set(prefix, {});
		for (const k of keys) flatten(v[k], prefix ? `${prefix}.${k}` : k, out);
	} else if (v !== undefined && (prefix || v !== null)) {
		out.set(prefix || '(value)', v);
	}
	return out;
}

export function diff(before: unknown, after: unknown): DiffRow[] {
	const a = flatten(before);
	const b = flatten(after);
	const rows: DiffRow[] = [];
	const keys = [...new Set([...a.keys(), ...b.keys()])].sort();
	for (const k of keys) {
		const inA = a.has(k);
		const inB = b.has(k);
		if (inA && !inB) rows.push({ kind: 'removed', path: k, before: show(a.get(k)) });
		else if (!inA && inB) rows.push({ kind: 'added', path: k, after: show(b.get(k)) });
		else if (show(a.get(k)) !== show(b.get(k))) rows.push({ kind: 'changed', path: k, before: show(a.get(k)), after: show(b.get(k)) });
	}
	return rows;
}
