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

export async function request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
	const headers: Record<string, string> = { Accept: 'application/json' };
	if (body !== undefined) headers['Content-Type'] = 'application/json';
	if (method !== 'GET' && method !== 'HEAD') headers['X-CSRF-Token'] = csrfToken || cookie('synapse_csrf');
	let res: Response;
	try {
		res = await fetch(API + path, {
			method,
			headers,
			body: body === undefined ? undefined : JSON.stringify(body),
			credentials: 'same-origin',
			signal
		});
	} catch (e) {
		if ((e as Error).name === 'AbortError') throw e;
		throw new ApiError(0, { code: 'network', message: 'Synapse cannot be reached: ' + (e as Error).message });
	}
	if (res.status === 204) return undefined as T;
	const text = await res.text();
	let data: any = null;
	if (text) {
		try {
			data = JSON.parse(text);
		} catch {
			data = null;
		}
	}
	if (!res.ok) {
		const err = new ApiError(
			res.status,
			data?.error ?? { code: 'http_' + res.status, message: `${res.status} ${res.statusText}`, request_id: res.headers.get('X-Request-Id') ?? undefined }
		);
		if (res.status === 401 && onUnauthenticated) onUnauthenticated();
		throw err;
	}
	return data as T;
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
