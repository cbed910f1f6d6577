import { get } from './api';

export interface Channel {
	id: string;
	name: string;
	type: number;
	parent_id?: string;
	deleted?: boolean;
}
export interface Role {
	id: string;
	name: string;
	color: number;
	managed?: boolean;
	deleted?: boolean;
}

/**
 * The guild's channels and roles for pickers. The endpoints may be missing
 * on an older API: then the lists stay empty and pickers take raw ids.
 */
export class Directory {
	channels = $state<Channel[]>([]);
	roles = $state<Role[]>([]);
	available = $state(false);

	constructor(guild: string) {
		get<{ items: Channel[] }>(`/guilds/${guild}/channels`)
			.then((r) => {
				this.channels = (r.items ?? []).filter((c) => !c.deleted);
				this.available = true;
			})
			.catch(() => {});
		get<{ items: Role[] }>(`/guilds/${guild}/roles`)
			.then((r) => (this.roles = (r.items ?? []).filter((x) => !x.deleted)))
			.catch(() => {});
	}

	channelName(id: string): string {
		const c = this.channels.find((c) => c.id === id);
		return c ? (c.type === 2 || c.type === 13 ? '🔊 ' : '#') + c.name : id;
	}
}
