// The one way the dashboard talks to Synapse: JSON over /api/v1 with the
// session cookie, the CSRF header on writes, and errors in one shape.

export const API = '/api/v1';

export interface ApiErrorBody {
	code: string;
	message: string;
	field?: string;
	request_id?: string;
}

export class ApiError extends Error {
	status: number;
	code: string;
	field?: string;
	requestId?: string;
	constructor(status: number, body: ApiErrorBody) {
		super(body.message);
		this.status = status;
		this.code = body.code;
		this.field = body.field;
		this.requestId = body.request_id;
	}
	/** The API answers 404 for another tenant's guild and 403 for a role that may not. */
	get refused(): boolean {
		return this.status === 403 || this.status === 404;
	}
}

let csrfToken = '';
let onUnauthenticated: (() => void) | null = null;

export function setCsrfToken(t: string) {
	csrfToken = t;
}
export function setUnauthenticatedHandler(fn: () => void) {
	onUnauthenticated = fn;
}

function cookie(name: string): string {
	const m = document.cookie.match(new RegExp('(?:^|; )' + name + '=([^;]*)'));
	return m ? decodeURIComponent(m[1]) : '';
}

/**
 * One API call: the session cookie, the CSRF header on writes, a non-2xx
 * answer thrown as ApiError (401 also ends the session). The body goes as
 * it is, with its content type.
 */
async function call(method: string, path: string, opts: { body?: BodyInit; type?: string; accept?: string; signal?: AbortSignal } = {}): Promise<Response> {
	const headers: Record<string, string> = { Accept: opts.accept ?? 'application/json' };
	if (opts.type) headers['Content-Type'] = opts.type;
	if (method !== 'GET' && method !== 'HEAD') headers['X-CSRF-Token'] = csrfToken || cookie('synapse_csrf');
	let res: Response;
	try {
		res = await fetch(API + path, { method, headers, body: opts.body, credentials: 'same-origin', signal: opts.signal });
	} catch (e) {
		if ((e as Error).name === 'AbortError') throw e;
		throw new ApiError(0, { code: 'network', message: 'Synapse cannot be reached: ' + (e as Error).message });
	}
	if (!res.ok) {
		const data = parse(await res.text());
		const err = new ApiError(
			res.status,
			data?.error ?? { code: 'http_' + res.status, message: `${res.status} ${res.statusText}`, request_id: res.headers.get('X-Request-Id') ?? undefined }
		);
		if (res.status === 401 && onUnauthenticated) onUnauthenticated();
		throw err;
	}
	return res;
}

function parse(text: string): any {
	if (!text) return null;
	try {
		return JSON.parse(text);
	} catch {
		return null;
	}
}

async function json<T>(res: Response): Promise<T> {
	if (res.status === 204) return undefined as T;
	return parse(await res.text()) as T;
}

export async function request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
	const sent = body === undefined ? {} : { body: JSON.stringify(body), type: 'application/json' };
	return json<T>(await call(method, path, { ...sent, signal }));
}

/** A POST of a text document as it is (a recipe in YAML or JSON), answered in JSON. */
export async function postText<T>(path: string, text: string, type: string): Promise<T> {
	return json<T>(await call('POST', path, { body: text, type }));
}

/** A GET of a file the API offers as a download: its bytes and the name Content-Disposition gives. */
export async function download(path: string, signal?: AbortSignal): Promise<{ blob: Blob; filename: string }> {
	const res = await call('GET', path, { accept: '*/*', signal });
	const cd = res.headers.get('Content-Disposition') ?? '';
	let filename = cd.match(/filename\*?=(?:UTF-8'')?"?([^";]+)"?/i)?.[1] ?? path.split('?')[0].split('/').pop()!;
	try {
		filename = decodeURIComponent(filename);
	} catch {
		/* a name with a bare % stays as it is */
	}
	return { blob: await res.blob(), filename };
}

/** Hands a blob to the browser as a file download. */
export function saveBlob(blob: Blob, filename: string) {
	const url = URL.createObjectURL(blob);
	const a = document.createElement('a');
	a.href = url;
	a.download = filename;
	a.rel = 'noopener';
	document.body.appendChild(a);
	a.click();
	a.remove();
	setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export const get = <T>(path: string, signal?: AbortSignal) => request<T>('GET', path, undefined, signal);
export const post = <T>(path: string, body?: unknown) => request<T>('POST', path, body ?? {});
export const put = <T>(path: string, body?: unknown) => request<T>('PUT', path, body ?? {});
export const patch = <T>(path: string, body?: unknown) => request<T>('PATCH', path, body ?? {});
export const del = <T>(path: string) => request<T>('DELETE', path);

/** Query string from the defined, non-empty values. */
export function qs(params: Record<string, string | number | undefined | null>): string {
	const u = new URLSearchParams();
	for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') u.set(k, String(v));
	const s = u.toString();
	return s ? '?' + s : '';
}

export const loginURL = API + '/auth/login';

/** Discord's consent page adding the bot to a server (preselected with `guild`); it logs in too. */
export function addBotURL(guild?: string): string {
	return API + '/onboarding/add-bot' + qs({ guild });
}
