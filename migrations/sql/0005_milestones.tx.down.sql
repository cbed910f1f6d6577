DROP TABLE IF EXISTS milestone_awards;
DROP TABLE IF EXISTS milestone_templates;
