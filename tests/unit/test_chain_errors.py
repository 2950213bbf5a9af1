# ruff: noqa: E501 (a table of messages and where each was read)
"""Node refusals of eth_sendRawTransaction, as eight implementations and hosted providers
word them (each row: node, class, the message with its values filled in, where it was read —
repository@commit path:line, or the issue thread for a provider's rate limit), map to one
class. The class is a hint: the chain decides first (tests/integration/test_send_check.py).
Ganache words a duplicate "transaction underpriced": only the chain tells it from a fee
refusal."""

from __future__ import annotations

import pytest

from core.adapters.chain import classify_send_error
from core.adapters.node_errors import KINDS

MESSAGES = [
    (
        "geth",
        "known",
        "already known",
        "ethereum/go-ethereum@02b73d4ea7181464175e0a6cbecc0a3a2655a562 core/txpool/errors.go:26 (ErrAlreadyKnown); returned at core/txpool/legacypool/legacypool.go:672",
    ),
    (
        "geth",
        "nonce_too_low",
        "nonce too low: next nonce 1, tx nonce 1",
        'ethereum/go-ethereum@02b73d4ea7181464175e0a6cbecc0a3a2655a562 core/txpool/validation.go:276 (wraps core/error.go:47 ErrNonceTooLow "nonce too low")',
    ),
    (
        "geth",
        "replacement_underpriced",
        "replacement transaction underpriced",
        "ethereum/go-ethereum@02b73d4ea7181464175e0a6cbecc0a3a2655a562 core/txpool/errors.go:38; legacypool.go:773",
    ),
    (
        "geth",
        "underpriced",
        "transaction underpriced",
        "ethereum/go-ethereum@02b73d4ea7181464175e0a6cbecc0a3a2655a562 core/txpool/errors.go:34; legacypool.go:712 (pool full, tx cheaper than cheapest in pool)",
    ),
    (
        "geth",
        "underpriced",
        "transaction gas price below minimum: gas tip cap 1, minimum needed 1",
        "ethereum/go-ethereum@02b73d4ea7181464175e0a6cbecc0a3a2655a562 core/txpool/errors.go:42 ErrTxGasPriceTooLow; core/txpool/validation.go ValidateTransaction (MinTip check)",
    ),
    (
        "geth",
        "underpriced",
        "transaction underpriced: gas tip cap 1, minimum needed 1",
        "ethereum/go-ethereum@9089f9461cc2^ core/txpool/validation.go:134",
    ),
    (
        "geth",
        "fee_cap_below_base_fee",
        "max fee per gas less than block base fee: address 1, maxFeePerGas: 1, baseFee: 1",
        "ethereum/go-ethereum@02b73d4ea7181464175e0a6cbecc0a3a2655a562 core/error.go:102 ErrFeeCapTooLow; wrapped at core/state_transition.go:585",
    ),
    (
        "geth",
        "insufficient_funds",
        "insufficient funds for gas * price + value: balance 1, tx cost 1, overshot 1",
        "ethereum/go-ethereum@02b73d4ea7181464175e0a6cbecc0a3a2655a562 core/txpool/validation.go:291 (wraps core/error.go:71 ErrInsufficientFunds)",
    ),
    (
        "geth",
        "exceeds_block_gas_limit",
        "exceeds block gas limit",
        "ethereum/go-ethereum@02b73d4ea7181464175e0a6cbecc0a3a2655a562 core/txpool/errors.go:50 ErrGasLimit; validation.go:103",
    ),
    (
        "geth",
        "intrinsic_gas_too_low",
        "intrinsic gas too low: gas 1, minimum needed 1",
        "ethereum/go-ethereum@02b73d4ea7181464175e0a6cbecc0a3a2655a562 core/txpool/validation.go:137 (wraps core/error.go:78 ErrIntrinsicGas)",
    ),
    (
        "geth",
        "error",
        "txpool is full",
        "ethereum/go-ethereum@02b73d4ea7181464175e0a6cbecc0a3a2655a562 core/txpool/legacypool/legacypool.go:62 ErrTxPoolOverflow",
    ),
    (
        "geth",
        "error",
        "tx fee (1 ether) exceeds the configured cap (1 ether)",
        "ethereum/go-ethereum@02b73d4ea7181464175e0a6cbecc0a3a2655a562 internal/ethapi/api.go:2192 (printf %.2f)",
    ),
    (
        "nethermind",
        "known",
        "AlreadyKnown",
        "NethermindEth/nethermind src/Nethermind/Nethermind.TxPool/AcceptTxResult.cs (pre-2026 versions: new(1, nameof(AlreadyKnown)))",
    ),
    (
        "nethermind",
        "nonce_too_low",
        "OldNonce, Current nonce: 1, nonce of rejected tx: 1",
        "NethermindEth/nethermind Nethermind.TxPool/Filters/LowNonceFilter.cs",
    ),
    (
        "nethermind",
        "replacement_underpriced",
        "ReplacementNotAllowed",
        "NethermindEth/nethermind Nethermind.TxPool/AcceptTxResult.cs (nameof(ReplacementNotAllowed)); TxPool.cs returns it when !inserted",
    ),
    (
        "nethermind",
        "underpriced",
        "FeeTooLow, EffectivePriorityFeePerGas too low 1 < 1, BaseFee: 1",
        "NethermindEth/nethermind Nethermind.TxPool/Filters/MinGasPriceTxFilter.cs",
    ),
    (
        "nethermind",
        "fee_cap_below_base_fee",
        "FeeTooLow, MaxFeePerGas too low. MaxFeePerGas: 1, BaseFee: 1, MaxPriorityFeePerGas:1, Block number: 1",
        "NethermindEth/nethermind Nethermind.TxPool/Filters/BaseFeeTxFilter.cs",
    ),
    (
        "nethermind",
        "insufficient_funds",
        "InsufficientFunds, Account balance: 1, cumulative cost: 1",
        "NethermindEth/nethermind Nethermind.TxPool/Filters/BalanceTooLowFilter.cs",
    ),
    (
        "nethermind",
        "exceeds_block_gas_limit",
        "GasLimitExceeded, Gas limit: 1, gas limit of rejected tx: 1",
        "NethermindEth/nethermind Nethermind.TxPool/Filters/GasLimitTxFilter.cs",
    ),
    (
        "nethermind",
        "intrinsic_gas_too_low",
        "Invalid, IntrinsicGasTooLow: Gas limit is below intrinsic gas.",
        "NethermindEth/nethermind Nethermind.TxPool/Filters/MalformedTxFilter.cs",
    ),
    (
        "nethermind",
        "known",
        "already known",
        "NethermindEth/nethermind@030cbd1bc4aed56a81464d97c73337e6e358e3dc src/Nethermind/Nethermind.TxPool/AcceptTxResult.cs + TxPoolErrorMessages.cs (commit cbea1e0df0d7)",
    ),
    (
        "nethermind",
        "nonce_too_low",
        "nonce too low",
        "NethermindEth/nethermind TxPoolErrorMessages.cs (NonceTooLow) @2026 master",
    ),
    (
        "nethermind",
        "replacement_underpriced",
        "replacement transaction underpriced",
        "NethermindEth/nethermind TxPoolErrorMessages.cs @2026 master",
    ),
    (
        "nethermind",
        "underpriced",
        "transaction underpriced",
        "NethermindEth/nethermind TxPoolErrorMessages.cs (FeeTooLow and FeeTooLowToCompete) @2026 master",
    ),
    (
        "nethermind",
        "exceeds_block_gas_limit",
        "gas limit reached",
        "NethermindEth/nethermind TxPoolErrorMessages.cs (GasLimitExceeded -> GasLimitReached) @2026 master",
    ),
    (
        "nethermind",
        "insufficient_funds",
        "insufficient funds for gas * price + value",
        "NethermindEth/nethermind AcceptTxResult.InsufficientFunds = TxErrorMessages.InsufficientFundsForGas @2026 master",
    ),
    (
        "erigon",
        "known",
        "ALREADY_EXISTS: already known",
        'erigontech/erigon rpc/jsonrpc/send_transaction.go (fmt.Errorf("%s: %s", ImportResult_name, Errors[0])) + txnprovider/txpool/txpool_grpc_server.go + txnprovider/txpool/txpoolcfg/txpoolcfg.go@05916db28a59',
    ),
    (
        "erigon",
        "nonce_too_low",
        "INTERNAL_ERROR: nonce too low",
        "erigontech/erigon txnprovider/txpool/pool.go validateTx (NonceTooLow) + txpoolcfg.go; mapDiscardReasonToProto default -> INTERNAL_ERROR",
    ),
    (
        "erigon",
        "replacement_underpriced",
        "INTERNAL_ERROR: could not replace existing tx",
        "erigontech/erigon txnprovider/txpool/pool.go addLocked (returns NotReplaced for regular txs)",
    ),
    (
        "erigon",
        "replacement_underpriced",
        "FEE_TOO_LOW: replacement transaction underpriced",
        "erigontech/erigon txnprovider/txpool/pool.go addLocked (ReplaceUnderpriced, blob-tx path only)",
    ),
    (
        "erigon",
        "underpriced",
        "FEE_TOO_LOW: underpriced",
        "erigontech/erigon txnprovider/txpool/pool.go validateTx (MinFeeCap, only when !isLocal)",
    ),
    (
        "erigon",
        "insufficient_funds",
        "INTERNAL_ERROR: insufficient funds",
        "erigontech/erigon txnprovider/txpool/pool.go validateTx + txpoolcfg.go",
    ),
    (
        "erigon",
        "exceeds_block_gas_limit",
        "INTERNAL_ERROR: gas limit is too high",
        "erigontech/erigon txnprovider/txpool/pool.go validateTx (GasLimitTooHigh) + txpoolcfg.go",
    ),
    (
        "erigon",
        "intrinsic_gas_too_low",
        "INTERNAL_ERROR: IntrinsicGas",
        'erigontech/erigon txnprovider/txpool/pool.go validateTx + txpoolcfg.go (String() returns "IntrinsicGas")',
    ),
    (
        "erigon",
        "error",
        "INTERNAL_ERROR: pending sub-pool is full",
        'erigontech/erigon txpoolcfg.go (PendingPoolOverflow); also "baseFee sub-pool is full", "queued sub-pool is full", "spammer"',
    ),
    (
        "reth",
        "known",
        "already known",
        "paradigmxyz/reth@7b3432d950030875b23c5c4df7c9f53a7caa4868 crates/rpc/rpc-eth-types/src/error/mod.rs:1006 RpcPoolError::AlreadyKnown (from PoolErrorKind::AlreadyImported)",
    ),
    (
        "reth",
        "nonce_too_low",
        "nonce too low: next nonce 1, tx nonce 1",
        "paradigmxyz/reth@7b3432d950030875b23c5c4df7c9f53a7caa4868 crates/rpc/rpc-eth-types/src/error/mod.rs:645 RpcInvalidTransactionError::NonceTooLow",
    ),
    (
        "reth",
        "replacement_underpriced",
        "replacement transaction underpriced",
        "paradigmxyz/reth@7b3432d950030875b23c5c4df7c9f53a7caa4868 crates/rpc/rpc-eth-types/src/error/mod.rs:1018 (from PoolErrorKind::ReplacementUnderpriced)",
    ),
    (
        "reth",
        "underpriced",
        "transaction underpriced",
        "paradigmxyz/reth@7b3432d950030875b23c5c4df7c9f53a7caa4868 crates/rpc/rpc-eth-types/src/error/mod.rs:1012 (from InvalidPoolTransactionError::Underpriced and FeeCapBelowMinimumProtocolFeeCap)",
    ),
    (
        "reth",
        "underpriced",
        "transaction priority fee below minimum required priority fee 1",
        "paradigmxyz/reth@7b3432d950030875b23c5c4df7c9f53a7caa4868 crates/rpc/rpc-eth-types/src/error/mod.rs:782",
    ),
    (
        "reth",
        "fee_cap_below_base_fee",
        "max fee per gas less than block base fee",
        "paradigmxyz/reth@7b3432d950030875b23c5c4df7c9f53a7caa4868 crates/rpc/rpc-eth-types/src/error/mod.rs:711 RpcInvalidTransactionError::FeeCapTooLow",
    ),
    (
        "reth",
        "insufficient_funds",
        "insufficient funds for gas * price + value: have 1 want 1",
        "paradigmxyz/reth@7b3432d950030875b23c5c4df7c9f53a7caa4868 crates/rpc/rpc-eth-types/src/error/mod.rs:667 (from InvalidPoolTransactionError::Overdraft)",
    ),
    (
        "reth",
        "exceeds_block_gas_limit",
        "exceeds block gas limit",
        "paradigmxyz/reth@7b3432d950030875b23c5c4df7c9f53a7caa4868 crates/rpc/rpc-eth-types/src/error/mod.rs:1021",
    ),
    (
        "reth",
        "intrinsic_gas_too_low",
        "intrinsic gas too low",
        "paradigmxyz/reth@7b3432d950030875b23c5c4df7c9f53a7caa4868 crates/rpc/rpc-eth-types/src/error/mod.rs:689 (pool IntrinsicGasTooLow -> RpcInvalidTransactionError::GasTooLow)",
    ),
    (
        "reth",
        "error",
        "txpool is full",
        "paradigmxyz/reth@7b3432d950030875b23c5c4df7c9f53a7caa4868 crates/rpc/rpc-eth-types/src/error/mod.rs:1015 (code -32003)",
    ),
    (
        "besu",
        "known",
        "Known transaction",
        "hyperledger/besu@3fd224e2e49ddd68aa61755525593a0a60c65507 ethereum/api/.../jsonrpc/internal/response/RpcErrorType.java:137 ETH_SEND_TX_ALREADY_KNOWN (-32000)",
    ),
    (
        "besu",
        "nonce_too_low",
        "Nonce too low",
        "hyperledger/besu@3fd224e2e49ddd68aa61755525593a0a60c65507 RpcErrorType.java:151 NONCE_TOO_LOW (-32001)",
    ),
    (
        "besu",
        "replacement_underpriced",
        "Replacement transaction underpriced",
        "hyperledger/besu@3fd224e2e49ddd68aa61755525593a0a60c65507 RpcErrorType.java:138 (-32000)",
    ),
    (
        "besu",
        "underpriced",
        "Gas price below configured minimum gas price",
        "hyperledger/besu@3fd224e2e49ddd68aa61755525593a0a60c65507 RpcErrorType.java:163 GAS_PRICE_TOO_LOW (-32009); TransactionPool.java:504/513",
    ),
    (
        "besu",
        "fee_cap_below_base_fee",
        "Gas price below current base fee",
        "hyperledger/besu@3fd224e2e49ddd68aa61755525593a0a60c65507 RpcErrorType.java:164 GAS_PRICE_BELOW_CURRENT_BASE_FEE (-32009); MainnetTransactionValidator.java:214",
    ),
    (
        "besu",
        "insufficient_funds",
        "Upfront cost exceeds account balance",
        "hyperledger/besu@3fd224e2e49ddd68aa61755525593a0a60c65507 RpcErrorType.java:155 TRANSACTION_UPFRONT_COST_EXCEEDS_BALANCE (-32004)",
    ),
    (
        "besu",
        "exceeds_block_gas_limit",
        "Transaction gas limit exceeds block gas limit",
        "hyperledger/besu@3fd224e2e49ddd68aa61755525593a0a60c65507 RpcErrorType.java:156 EXCEEDS_BLOCK_GAS_LIMIT (-32005)",
    ),
    (
        "besu",
        "intrinsic_gas_too_low",
        "Intrinsic gas exceeds gas limit",
        "hyperledger/besu@3fd224e2e49ddd68aa61755525593a0a60c65507 RpcErrorType.java:154 INTRINSIC_GAS_EXCEEDS_LIMIT (-32003)",
    ),
    (
        "besu",
        "error",
        "Transaction nonce is too distant from current sender nonce",
        "hyperledger/besu@3fd224e2e49ddd68aa61755525593a0a60c65507 RpcErrorType.java:178-179 (-32000)",
    ),
    (
        "hardhat",
        "known",
        "Known transaction: 0x1",
        "NomicFoundation/edr@a81dc2858a84c109d72f018ce65ed2fd66ea1e33 crates/mem_pool/src/lib.rs:143 MemPoolAddTransactionError::TransactionAlreadyExists",
    ),
    (
        "hardhat",
        "nonce_too_low",
        "Nonce too low. Expected nonce to be 1 but got 1. Note that transactions can't be queued when automining.",
        "NomicFoundation/edr@a81dc2858a84c109d72f018ce65ed2fd66ea1e33 crates/edr_provider/src/error.rs:169 AutoMineNonceTooLow (raised in data.rs:1651)",
    ),
    (
        "hardhat",
        "nonce_too_low",
        "Transaction nonce too low. Expected nonce to be at least 1 but got 1.",
        "NomicFoundation/edr@a81dc2858a84c109d72f018ce65ed2fd66ea1e33 crates/mem_pool/src/lib.rs:134",
    ),
    (
        "hardhat",
        "replacement_underpriced",
        "Replacement transaction underpriced. A gasPrice/maxFeePerGas of at least 1 is necessary to replace the existing transaction with nonce 1.",
        "NomicFoundation/edr@a81dc2858a84c109d72f018ce65ed2fd66ea1e33 crates/mem_pool/src/lib.rs:153",
    ),
    (
        "hardhat",
        "underpriced",
        "Transaction gas price is 1, which is below the minimum of 1",
        "NomicFoundation/edr@a81dc2858a84c109d72f018ce65ed2fd66ea1e33 crates/edr_provider/src/error.rs:160 AutoMinePriorityFeeTooLow",
    ),
    (
        "hardhat",
        "fee_cap_below_base_fee",
        "Transaction maxFeePerGas (1) is too low for the next block, which has a baseFeePerGas of 1",
        "NomicFoundation/edr@a81dc2858a84c109d72f018ce65ed2fd66ea1e33 crates/edr_provider/src/error.rs:149 AutoMineMaxFeePerGasTooLow",
    ),
    (
        "hardhat",
        "insufficient_funds",
        "Sender doesn't have enough funds to send tx. The max upfront cost is: 1 and the sender's balance is: 1.",
        "NomicFoundation/edr@a81dc2858a84c109d72f018ce65ed2fd66ea1e33 crates/mem_pool/src/lib.rs:124 (same text crates/chain/spec/evm/src/error.rs:31)",
    ),
    (
        "hardhat",
        "exceeds_block_gas_limit",
        "Transaction gas limit is 1 and exceeds block gas limit of 1",
        "NomicFoundation/edr@a81dc2858a84c109d72f018ce65ed2fd66ea1e33 crates/mem_pool/src/lib.rs:104",
    ),
    (
        "hardhat",
        "intrinsic_gas_too_low",
        "Transaction requires at least 1 gas but got 1",
        "NomicFoundation/edr@a81dc2858a84c109d72f018ce65ed2fd66ea1e33 crates/edr_runtime/src/transaction.rs:23 CreationError::InsufficientGas",
    ),
    (
        "ganache",
        "underpriced",
        "transaction underpriced",
        "trufflesuite/ganache@547c900a50d19b094ef636a9aeccf4f7f2356430 (v7.9.2) packages/ethereum/ethereum/src/transaction-pool.ts:76 (shouldReplace)",
    ),
    (
        "ganache",
        "nonce_too_low",
        "the tx doesn't have the correct nonce. account has nonce of: 1 tx has nonce of: 1",
        "trufflesuite/ganache@547c900a50d19b094ef636a9aeccf4f7f2356430 (v7.9.2) packages/ethereum/ethereum/src/transaction-pool.ts:301",
    ),
    (
        "ganache",
        "underpriced",
        "transaction underpriced",
        "trufflesuite/ganache@547c900a50d19b094ef636a9aeccf4f7f2356430 (v7.9.2) packages/ethereum/utils/src/errors/errors.ts UNDERPRICED; thrown at transaction-pool.ts:76",
    ),
    (
        "ganache",
        "error",
        "transaction can't be replaced, mining has already started. (please open an issue with reproduction steps: https://github.com/trufflesuite/ganache/issues/new)",
        "trufflesuite/ganache@547c900a50d19b094ef636a9aeccf4f7f2356430 (v7.9.2) packages/ethereum/utils/src/errors/errors.ts TRANSACTION_LOCKED",
    ),
    (
        "ganache",
        "insufficient_funds",
        "insufficient funds for gas * price + value",
        "trufflesuite/ganache@547c900a50d19b094ef636a9aeccf4f7f2356430 (v7.9.2) errors.ts INSUFFICIENT_FUNDS; transaction-pool.ts:230",
    ),
    (
        "ganache",
        "exceeds_block_gas_limit",
        "exceeds block gas limit",
        "trufflesuite/ganache@547c900a50d19b094ef636a9aeccf4f7f2356430 (v7.9.2) errors.ts GAS_LIMIT; transaction-pool.ts:470",
    ),
    (
        "ganache",
        "intrinsic_gas_too_low",
        "intrinsic gas too low",
        "trufflesuite/ganache@547c900a50d19b094ef636a9aeccf4f7f2356430 (v7.9.2) errors.ts INTRINSIC_GAS_TOO_LOW; transaction-pool.ts:477",
    ),
    ("ganache", "nonce_too_low", "Transaction nonce is too low", "(not found)"),
    (
        "anvil",
        "known",
        "transaction already imported",
        "foundry-rs/foundry@02ad6dec76ae99381b8d555e9a38b256a6847317 crates/anvil/src/eth/error.rs (to_rpc_result: PoolError::AlreadyImported -> RpcError::transaction_rejected)",
    ),
    (
        "anvil",
        "nonce_too_low",
        "nonce too low",
        "foundry-rs/foundry@02ad6dec76ae99381b8d555e9a38b256a6847317 crates/anvil/src/eth/error.rs InvalidTransactionError::NonceTooLow",
    ),
    (
        "anvil",
        "replacement_underpriced",
        "replacement transaction underpriced",
        "foundry-rs/foundry@02ad6dec76ae99381b8d555e9a38b256a6847317 crates/anvil/src/eth/error.rs (PoolError::ReplacementUnderpriced)",
    ),
    (
        "anvil",
        "fee_cap_below_base_fee",
        "max fee per gas less than block base fee",
        "foundry-rs/foundry@02ad6dec76ae99381b8d555e9a38b256a6847317 crates/anvil/src/eth/error.rs InvalidTransactionError::FeeCapTooLow; check in crates/anvil/src/eth/backend/mem/mod.rs validate_pool_transaction_for",
    ),
    (
        "anvil",
        "insufficient_funds",
        "Insufficient funds for gas * price + value",
        "foundry-rs/foundry@02ad6dec76ae99381b8d555e9a38b256a6847317 crates/anvil/src/eth/error.rs InvalidTransactionError::InsufficientFunds",
    ),
    (
        "anvil",
        "exceeds_block_gas_limit",
        "intrinsic gas too high -- tx.gas_limit > env.block.gas_limit",
        "foundry-rs/foundry@02ad6dec76ae99381b8d555e9a38b256a6847317 error.rs GasTooHigh(ErrDetail) + backend/mem/mod.rs",
    ),
    (
        "anvil",
        "intrinsic_gas_too_low",
        "intrinsic gas too low",
        "foundry-rs/foundry@02ad6dec76ae99381b8d555e9a38b256a6847317 error.rs InvalidTransactionError::GasTooLow",
    ),
    (
        "eip-1474",
        "rate_limited",
        "Limit exceeded (code -32005)",
        "https://eips.ethereum.org/EIPS/eip-1474",
    ),
    (
        "infura",
        "rate_limited",
        "daily request count exceeded, request rate limited",
        "https://github.com/gochain/web3/issues/180 (HTTP 429, code -32005, data.rate.{allowed_rps,backoff_seconds,current_rps})",
    ),
    (
        "infura",
        "rate_limited",
        "project ID request rate exceeded",
        "https://github.com/ConsenSys-archive/truffle/issues/3200",
    ),
    (
        "infura",
        "rate_limited",
        "legacy access request rate exceeded",
        "https://github.com/herdius/herdius-core/pull/58",
    ),
    (
        "alchemy",
        "rate_limited",
        "Your app has exceeded its compute units per second capacity. If you have retries enabled, you can safely ignore this message. If not, check out https://docs.alchemy.com/reference/throughput",
        "https://github.com/conduitxyz/node/issues/36; https://github.com/Synthetixio/kwenta/issues/40",
    ),
    (
        "alchemy",
        "rate_limited",
        "Monthly capacity limit exceeded. Visit https://dashboard.alchemyapi.io/settings/billing to upgrade your scaling policy for continued service.",
        "https://github.com/xmtp/xmtpd/issues/672",
    ),
]


@pytest.mark.parametrize(("node", "kind", "message", "source"), MESSAGES)
def test_each_node_s_refusal_maps_to_its_class(
    node: str, kind: str, message: str, source: str
) -> None:
    assert classify_send_error(message) == kind, (node, source)


def test_every_category_of_the_issue_is_covered_by_more_than_one_node() -> None:
    wanted = {
        "known",
        "nonce_too_low",
        "replacement_underpriced",
        "fee_cap_below_base_fee",
        "insufficient_funds",
        "exceeds_block_gas_limit",
        "intrinsic_gas_too_low",
        "rate_limited",
    }
    nodes = {k: {n for n, kind, *_ in MESSAGES if kind == k} for k in wanted}
    assert all(len(v) >= 2 for v in nodes.values()), nodes
    assert {kind for _, kind, *_ in MESSAGES} <= set(KINDS)


@pytest.mark.parametrize("message", ["execution reverted", "", "txpool is full"])
def test_anything_else_is_an_error(message: str) -> None:
    assert classify_send_error(message) == "error"
