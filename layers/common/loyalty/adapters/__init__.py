"""AWS adapters (boto3, pynamodb) behind the ports each context declares (`loyalty.<context>.ports`)."""
