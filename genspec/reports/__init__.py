"""What a run reports: its observations, their snapshots, the proof report, and the comparisons of reports (regression, matrix)."""
