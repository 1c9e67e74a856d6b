"""Where state lives: the records, one protocol per kind of state, the memory and SQLite backends."""
