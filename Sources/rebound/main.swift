print("rebound")
