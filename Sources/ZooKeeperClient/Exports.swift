@_exported import ZooKeeperProtocol
