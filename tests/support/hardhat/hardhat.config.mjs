// Hardhat 3's node for the test suite (tests/support/procs.py start_hardhat): the default
// simulated network (chain id 31337, the same funded dev accounts as anvil). Interval
// mining is switched on over RPC once it is up (evm_setAutomine / evm_setIntervalMining).
export default {};
