import { ApiError } from './api';

export interface Toast {
	id: number;
	kind: 'error' | 'ok' | 'info';
	title: string;
	detail?: string;
	requestId?: string;
	link?: { href: string; label: string };
}

let next = 1;
export const toasts = $state<Toast[]>([]);

export function dismiss(id: number) {
	const i = toasts.findIndex((t) => t.id === id);
	if (i >= 0) toasts.splice(i, 1);
}

function push(t: Omit<Toast, 'id'>, ms: number) {
	const id = next++;
	toasts.push({ id, ...t });
	if (ms > 0) setTimeout(() => dismiss(id), ms);
}

export function toastOk(title: string, detail?: string, link?: Toast['link']) {
	push({ kind: 'ok', title, detail, link }, link ? 9000 : 4000);
}

/** An error toast: the API's message and the request id to quote to support. */
export function toastError(e: unknown, title = 'Request failed') {
	if (e instanceof ApiError && e.code === 'plan_limit') {
		// 402: the plan is full; the way out is the Billing page of this guild's tenant.
		const guild = location.pathname.match(/^\/g\/([^/]+)/)?.[1];
		push({ kind: 'error', title, detail: e.message, requestId: e.requestId, link: guild ? { href: `/g/${guild}/billing`, label: 'See plans in Billing →' } : undefined }, 15000);
	} else if (e instanceof ApiError) {
		push({ kind: 'error', title, detail: e.message + (e.field ? ` (${e.field})` : ''), requestId: e.requestId }, 9000);
	} else if ((e as Error)?.name !== 'AbortError') {
		push({ kind: 'error', title, detail: String((e as Error)?.message ?? e) }, 9000);
	}
}
