"""Numbers: the question-clustered bootstrap, the adapter algebra, the signature's rules."""
