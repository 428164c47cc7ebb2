"""The two-week turnaround: case clocks (pause/resume), the daily sweep (escalations,
backlog history) and the supervisors' dashboard."""
