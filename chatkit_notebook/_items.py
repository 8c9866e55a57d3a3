"""The package's own thread items: one maker, one test and one reader for each kind."""
