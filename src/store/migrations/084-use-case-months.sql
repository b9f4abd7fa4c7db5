-- Which months a use case's analysts read (issue 16; docs/governance.md): 'published' (only
-- months their sender signed off and the programme published; the default for a new use
-- case) or 'loaded' (every month loaded). Use cases made before this column read what they
-- read before: every month loaded (NULL is read as 'loaded').
ALTER TABLE use_cases ADD COLUMN months TEXT;
