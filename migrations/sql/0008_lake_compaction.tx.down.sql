DROP TABLE IF EXISTS lake_compactions;
