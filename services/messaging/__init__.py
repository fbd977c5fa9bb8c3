"""Fan-out between functions: what a publisher is, and the SNS implementation for AWS."""
