"""What-if simulation (issue 10): replay stored sales through candidate rules in an isolated run and compare with what was accrued and paid."""
