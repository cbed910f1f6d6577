import { ApiError } from './api';

/**
 * A value loaded from the API: loading and error states for the page,
 * reload() after a change. The loader gets an AbortSignal so that a page
 * left before its data arrived does not apply it.
 */
export class Resource<T> {
	data = $state<T | undefined>(undefined);
	error = $state<ApiError | Error | null>(null);
	loading = $state(true);
	#loader: (signal: AbortSignal) => Promise<T>;
	#ctrl: AbortController | null = null;

	constructor(loader: (signal: AbortSignal) => Promise<T>) {
		this.#loader = loader;
	}

	async reload(quiet = false): Promise<void> {
		this.#ctrl?.abort();
		const ctrl = new AbortController();
		this.#ctrl = ctrl;
		if (!quiet) this.loading = true;
		try {
			const v = await this.#loader(ctrl.signal);
			if (ctrl.signal.aborted) return;
			this.data = v;
			this.error = null;
		} catch (e) {
			if (ctrl.signal.aborted || (e as Error).name === 'AbortError') return;
			this.error = e as Error;
		} finally {
			if (!ctrl.signal.aborted) this.loading = false;
		}
	}

	abort() {
		this.#ctrl?.abort();
	}

	get refused(): boolean {
		return this.error instanceof ApiError && this.error.refused;
	}
}
