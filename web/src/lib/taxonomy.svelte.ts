// What the community calls Synapse's terms ("Badges" for achievements):
// read once per guild (GET taxonomy) by the guild layout, used by the
// navigation and page titles, replaced after the Terms page saves.
import { get } from './api';

export interface Label {
	one: string;
	many: string;
}
export interface Term {
	term: string;
	default: Label;
	label: Label;
}

/** The defaults, as the API has them: the dashboard shows these until (or unless) the guild's labels arrive. */
export const DEFAULT_TERMS: Record<string, Label> = {
	currency: { one: 'Currency', many: 'Currencies' },
	achievement: { one: 'Achievement', many: 'Achievements' },
	level: { one: 'Level', many: 'Levels' },
	season: { one: 'Season', many: 'Seasons' },
	leaderboard: { one: 'Leaderboard', many: 'Leaderboards' },
	rule: { one: 'Rule', many: 'Rules' },
	zone: { one: 'Zone', many: 'Zones' },
	member: { one: 'Member', many: 'Members' }
};

const store = $state<{ guild: string; labels: Record<string, Label> }>({ guild: '', labels: {} });
let loading: Promise<void> | null = null;

/** Reads the guild's labels unless they are already here (force: again). A refusal or failure keeps the defaults: labels are cosmetic. */
export function loadTaxonomy(guild: string, force = false): Promise<void> {
	if (!force && store.guild === guild && loading) return loading;
	if (store.guild !== guild) {
		store.guild = guild;
		store.labels = {};
	}
	loading = get<{ terms: Term[] }>(`/guilds/${guild}/taxonomy`)
		.then((r) => {
			if (store.guild === guild) setTaxonomy(guild, r.terms);
		})
		.catch(() => {});
	return loading;
}

/** Takes the labels the API answered (GET or PUT taxonomy). */
export function setTaxonomy(guild: string, terms: Term[]) {
	if (store.guild !== guild) return;
	const labels: Record<string, Label> = {};
	for (const t of terms ?? []) labels[t.term] = t.label;
	store.labels = labels;
}

/** A term's label in the current guild: the plural by default ("Badges"), else the singular. */
export function term(name: string, many = true): string {
	const l = store.labels[name] ?? DEFAULT_TERMS[name];
	if (!l) return name;
	return many ? l.many : l.one;
}
