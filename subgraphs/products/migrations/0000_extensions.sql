-- Trigram matching for ProductFilter.search (served by products_name_trgm_idx).
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;
