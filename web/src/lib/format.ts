// Formatting: amounts in minor units, counts, bytes and times.

export interface CurrencyLike {
	code?: string;
	symbol?: string;
	decimals?: number;
}

const intFmt = new Intl.NumberFormat('en-US');

export function count(n: number | null | undefined): string {
	return n === null || n === undefined ? '—' : intFmt.format(n);
}

/** An integer amount in minor units shown with the currency's decimals. */
export function amount(minor: number | null | undefined, c?: CurrencyLike | null, withSymbol = false): string {
	if (minor === null || minor === undefined) return '—';
	const d = Math.max(0, c?.decimals ?? 0);
	const v = minor / 10 ** d;
	const s = new Intl.NumberFormat('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }).format(v);
	if (!withSymbol || !c) return s;
	return c.symbol ? `${c.symbol} ${s}` : `${s} ${c.code ?? ''}`.trim();
}

/** Parse what an operator typed ("12.5") into minor units; NaN when not a number. */
export function toMinor(text: string, decimals: number): number {
	const t = text.trim().replace(/,/g, '');
	if (!/^-?\d+(\.\d+)?$/.test(t)) return NaN;
	const [i, f = ''] = t.replace('-', '').split('.');
	if (f.length > decimals) return NaN;
	const n = Number(i) * 10 ** decimals + Number((f + '0'.repeat(decimals)).slice(0, decimals) || '0');
	return t.startsWith('-') ? -n : n;
}

export function bytes(n: number | null | undefined): string {
	if (n === null || n === undefined) return '—';
	const u = ['B', 'KB', 'MB', 'GB', 'TB'];
	let i = 0;
	let v = n;
	while (v >= 1024 && i < u.length - 1) {
		v /= 1024;
		i++;
	}
	return `${v.toFixed(v < 10 && i > 0 ? 1 : 0)} ${u[i]}`;
}

export function dateTime(s: string | null | undefined): string {
	if (!s) return '—';
	const d = new Date(s);
	return isNaN(+d) ? s : d.toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short' });
}

export function date(s: string | null | undefined): string {
	if (!s) return '—';
	const d = new Date(s);
	return isNaN(+d) ? s : d.toLocaleDateString('en-GB', { dateStyle: 'medium' });
}

export function ago(s: string | null | undefined): string {
	if (!s) return '—';
	const sec = Math.round((Date.now() - new Date(s).getTime()) / 1000);
	if (sec < 60) return `${Math.max(sec, 0)}s ago`;
	if (sec < 3600) return `${Math.floor(sec / 60)}m ago`;
	if (sec < 86400) return `${Math.floor(sec / 3600)}h ago`;
	return `${Math.floor(sec / 86400)}d ago`;
}

export function isoDay(d: Date): string {
	return d.toISOString().slice(0, 10);
}

/** snake_case or dotted keys as words: "retention_days" → "Retention days". */
export function humanize(key: string): string {
	const s = key.replace(/[._]/g, ' ').trim();
	return s.charAt(0).toUpperCase() + s.slice(1);
}
