"""Prevention-training planner: course catalogue, tailoring, employer selection and scheduling."""
