"""Example data shipped with Styrhjul: role titles and example.se addresses only, no real people."""
