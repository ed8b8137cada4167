// Keeps test output readable: the gateway logs at warn unless a test asks for more.
process.env.LOG_LEVEL ??= 'warn';
