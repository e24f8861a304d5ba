"""AWS adapters (boto3, pynamodb) behind the ports of loyalty.ports."""
