"""pytest-xcs: trace ``@pytest.mark.xcs_parallel`` tests and report their parallelism."""
