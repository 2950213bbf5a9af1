// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import "./LocalGmx.sol";

// GMX v2's SubaccountRouter (contracts/router/SubaccountRouter.sol and
// contracts/subaccount/SubaccountUtils.sol at v2.2, the ABI of the pinned @gmx-io/sdk@1.4.0):
// a wallet (the account) lets another key (its subaccount) create and cancel orders for it,
// within a lifetime number of actions and until an expiry. Same selectors, DataStore keys,
// check order and errors; written from scratch. Local restrictions: no auto top-up (the
// amount is stored, never paid), no integration ids or feature switches, no updateOrder
// (market orders only), sendWnt to the order vault only, no events.

error SubaccountNotAuthorized(address account, address subaccount);
error SubaccountApprovalExpired(address account, address subaccount, uint256 deadline, uint256 currentTimestamp);
error MaxSubaccountActionCountExceeded(address account, address subaccount, uint256 count, uint256 maxCount);
error InvalidReceiverForSubaccountOrder(address receiver, address expectedReceiver);
error InvalidCancellationReceiverForSubaccountOrder(
    address cancellationReceiver,
    address expectedCancellationReceiver
);
error EmptyOrder();

// Keys.sol: keccak256(abi.encode("NAME")), and the derived keys below.
bytes32 constant SUBACCOUNT_LIST = keccak256(abi.encode("SUBACCOUNT_LIST"));
bytes32 constant MAX_ALLOWED_SUBACCOUNT_ACTION_COUNT = keccak256(abi.encode("MAX_ALLOWED_SUBACCOUNT_ACTION_COUNT"));
bytes32 constant SUBACCOUNT_EXPIRES_AT = keccak256(abi.encode("SUBACCOUNT_EXPIRES_AT"));
bytes32 constant SUBACCOUNT_ACTION_COUNT = keccak256(abi.encode("SUBACCOUNT_ACTION_COUNT"));
bytes32 constant SUBACCOUNT_AUTO_TOP_UP_AMOUNT = keccak256(abi.encode("SUBACCOUNT_AUTO_TOP_UP_AMOUNT"));
bytes32 constant SUBACCOUNT_ORDER_ACTION = keccak256(abi.encode("SUBACCOUNT_ORDER_ACTION"));

function subaccountListKey(address account) pure returns (bytes32) {
    return keccak256(abi.encode(SUBACCOUNT_LIST, account));
}

function subaccountKey(bytes32 base, address account, address subaccount, bytes32 actionType) pure returns (bytes32) {
    return keccak256(abi.encode(base, account, subaccount, actionType));
}

contract GmxSubaccountRouter {
    GmxRouter public immutable router;
    GmxDataStore public immutable dataStore;
    GmxOrderHandler public immutable orderHandler;
    GmxOrderVault public immutable orderVault;
    GmxWnt public immutable wnt;

    constructor(GmxRouter router_, GmxOrderHandler orderHandler_) {
        router = router_;
        orderHandler = orderHandler_;
        dataStore = orderHandler_.dataStore();
        orderVault = orderHandler_.orderVault();
        wnt = orderVault.wnt();
    }

    /// Delegatecalls to itself (msg.sender and msg.value are the caller's in every call);
    /// the first failure's revert data is bubbled up as is.
    function multicall(bytes[] calldata data) external payable returns (bytes[] memory results) {
        results = new bytes[](data.length);
        for (uint256 i; i < data.length; i++) {
            (bool ok, bytes memory result) = address(this).delegatecall(data[i]);
            if (!ok) {
                assembly {
                    revert(add(result, 32), mload(result))
                }
            }
            results[i] = result;
        }
    }

    /// The execution fee, from the caller (the subaccount), wrapped for the order vault.
    function sendWnt(address receiver, uint256 amount) external payable {
        if (receiver != address(orderVault)) revert InvalidReceiver(receiver);
        wnt.deposit{value: amount}();
        if (!wnt.transfer(receiver, amount)) revert TokenTransferError(address(wnt), receiver, amount);
    }

    // -- the account (msg.sender) sets its subaccount up ---------------------------------

    function addSubaccount(address subaccount) external payable {
        dataStore.addAddress(subaccountListKey(msg.sender), subaccount);
    }

    /// The count, maximum and expiry stay as they were (GMX does the same).
    function removeSubaccount(address subaccount) external payable {
        dataStore.removeAddress(subaccountListKey(msg.sender), subaccount);
    }

    function setMaxAllowedSubaccountActionCount(
        address subaccount,
        bytes32 actionType,
        uint256 maxAllowedCount
    ) external payable {
        dataStore.setUint(
            subaccountKey(MAX_ALLOWED_SUBACCOUNT_ACTION_COUNT, msg.sender, subaccount, actionType),
            maxAllowedCount
        );
    }

    function setSubaccountExpiresAt(address subaccount, bytes32 actionType, uint256 expiresAt) external payable {
        dataStore.setUint(subaccountKey(SUBACCOUNT_EXPIRES_AT, msg.sender, subaccount, actionType), expiresAt);
    }

    function setSubaccountAutoTopUpAmount(address subaccount, uint256 amount) external payable {
        dataStore.setUint(keccak256(abi.encode(SUBACCOUNT_AUTO_TOP_UP_AMOUNT, msg.sender, subaccount)), amount);
    }

    // -- the subaccount (msg.sender) acts for the account --------------------------------

    function createOrder(address account, CreateOrderParams calldata params) external payable returns (bytes32) {
        _handleSubaccountAction(account);
        CreateOrderParamsAddresses calldata a = params.addresses;
        if (a.receiver != account) revert InvalidReceiverForSubaccountOrder(a.receiver, account);
        if (a.cancellationReceiver != address(0) && a.cancellationReceiver != account) {
            revert InvalidCancellationReceiverForSubaccountOrder(a.cancellationReceiver, account);
        }
        if (params.orderType == OrderType.MarketIncrease) {
            // The collateral comes from the account, not the subaccount.
            router.pluginTransfer(
                a.initialCollateralToken,
                account,
                address(orderVault),
                params.numbers.initialCollateralDeltaAmount
            );
        }
        return orderHandler.createOrder(account, params);
    }

    function cancelOrder(bytes32 key) external payable {
        address account = orderHandler.getOrder(key).addresses.account;
        if (account == address(0)) revert EmptyOrder();
        _handleSubaccountAction(account);
        orderHandler.cancelOrder(account, key);
    }

    /// SubaccountUtils.handleSubaccountAction: authorised, then the count goes up by one,
    /// then the expiry (unset = expired) and the lifetime maximum are checked.
    function _handleSubaccountAction(address account) internal {
        address subaccount = msg.sender;
        if (!dataStore.containsAddress(subaccountListKey(account), subaccount)) {
            revert SubaccountNotAuthorized(account, subaccount);
        }
        bytes32 t = SUBACCOUNT_ORDER_ACTION;
        uint256 count = dataStore.incrementUint(subaccountKey(SUBACCOUNT_ACTION_COUNT, account, subaccount, t), 1);
        uint256 expiresAt = dataStore.getUint(subaccountKey(SUBACCOUNT_EXPIRES_AT, account, subaccount, t));
        if (block.timestamp > expiresAt) {
            revert SubaccountApprovalExpired(account, subaccount, expiresAt, block.timestamp);
        }
        uint256 maxCount = dataStore.getUint(subaccountKey(MAX_ALLOWED_SUBACCOUNT_ACTION_COUNT, account, subaccount, t));
        if (count > maxCount) revert MaxSubaccountActionCountExceeded(account, subaccount, count, maxCount);
    }
}
