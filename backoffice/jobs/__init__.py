"""The administrators' jobs page: RQ queues, failed jobs and their retry, the outbox backlog."""
