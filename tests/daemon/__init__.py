"""The daemon's tests: timetable and DST, the process, its command line."""
