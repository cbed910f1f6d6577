DROP TABLE IF EXISTS milestone_counter_cache;
DROP TABLE IF EXISTS milestone_awards;
DROP TABLE IF EXISTS milestone_templates;
DROP TABLE IF EXISTS milestone_guild_revisions;
