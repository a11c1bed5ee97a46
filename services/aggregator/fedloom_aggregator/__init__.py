"""The aggregator service: enrolment, federations, round coordination, package distribution."""
