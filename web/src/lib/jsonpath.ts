// Where a JSON path ("conditions[1].seconds") sits in a JSON text, so the
// rule editor can show the API's validation error at the offending line.

/** Offsets of every value in the text, by path ("" is the root). */
export function locate(text: string): Map<string, number> {
	const at = new Map<string, number>();
	let i = 0;
	const ws = () => {
		while (i < text.length && /\s/.test(text[i])) i++;
	};
	const str = (): string => {
		const start = i;
		i++; // opening quote
		while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
		i++;
		try {
			return JSON.parse(text.slice(start, i));
		} catch {
			return text.slice(start + 1, i - 1);
		}
	};
	const value = (path: string, keyAt: number) => {
		ws();
		at.set(path, keyAt >= 0 ? keyAt : i);
		const c = text[i];
		if (c === '{') {
			i++;
			ws();
			while (i < text.length && text[i] !== '}') {
				ws();
				const kAt = i;
				const k = str();
				ws();
				i++; // colon
				value(path ? `${path}.${k}` : k, kAt);
				ws();
				if (text[i] === ',') i++;
				ws();
			}
			i++;
		} else if (c === '[') {
			i++;
			ws();
			let n = 0;
			while (i < text.length && text[i] !== ']') {
				value(`${path}[${n++}]`, -1);
				ws();
				if (text[i] === ',') i++;
				ws();
			}
			i++;
		} else if (c === '"') {
			str();
		} else {
			while (i < text.length && !/[\s,}\]]/.test(text[i])) i++;
		}
	};
	try {
		value('', -1);
	} catch {
		/* a partial map is still useful */
	}
	return at;
}

/** The 1-based line of the path's value, trying looser forms of the path. */
export function lineOf(text: string, path: string): number | null {
	const at = locate(text);
	let p = path.replace(/^document\.?/, '');
	const candidates = [p, p.replace(/\.params(?=\.|\[|$)/g, '')];
	for (const c of candidates) {
		let q = c;
		while (true) {
			if (at.has(q)) return text.slice(0, at.get(q)!).split('\n').length;
			const cut = Math.max(q.lastIndexOf('.'), q.lastIndexOf('['));
			if (cut <= 0) break;
			q = q.slice(0, cut);
		}
	}
	p = '';
	return at.has(p) ? 1 : null;
}

/** The 1-based line of a JSON.parse syntax error, when the engine says where. */
export function syntaxErrorLine(text: string, err: unknown): number | null {
	const m = String((err as Error)?.message ?? '').match(/position (\d+)/);
	if (m) return text.slice(0, Number(m[1])).split('\n').length;
	const l = String((err as Error)?.message ?? '').match(/line (\d+)/);
	return l ? Number(l[1]) : null;
}
