// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

// A local, GMX v2-compatible perpetuals venue for tests and the demo. It implements only the
// subset of GMX v2's external interface that copytrade calls or decodes, with the same
// function selectors, struct ABI encodings and EventLog1/EventLog2 format as GMX v2 on
// Arbitrum (the ABIs of the pinned @gmx-io/sdk@1.4.0 in contracts/gmx/sdk.json are the
// reference; tests/unit/test_gmx_conformance.py checks them). Written from scratch, not
// GMX's code. Deliberately simple: market orders only, one price per execution, no swaps,
// no callbacks, no price impact, and no PnL: collateral only (no fees, funding or borrowing).
//
// Contracts: GmxToken (mock USDC, market tokens), GmxWnt (wrapped native), GmxDataStore,
// GmxEventEmitter, GmxRouter (the SDK's SyntheticsRouter), GmxOrderVault, GmxOrderHandler
// (orders, positions, keeper execution), GmxExchangeRouter, GmxReader (SyntheticsReader);
// GmxSubaccountRouter in LocalGmxSubaccount.sol.

// ---- GMX ABI shapes (file-level so that they add no build artifacts) ----------------------

// Order.OrderType's numbering: MarketIncrease = 2, MarketDecrease = 4.
enum OrderType {
    MarketSwap,
    LimitSwap,
    MarketIncrease,
    LimitIncrease,
    MarketDecrease,
    LimitDecrease,
    StopLossDecrease,
    Liquidation,
    StopIncrease
}

enum DecreasePositionSwapType {
    NoSwap,
    SwapPnlTokenToCollateralToken,
    SwapCollateralTokenToPnlToken
}

// IBaseOrderUtils.CreateOrderParams as the SDK's ExchangeRouter ABI has it.
struct CreateOrderParamsAddresses {
    address receiver;
    address cancellationReceiver;
    address callbackContract;
    address uiFeeReceiver;
    address market;
    address initialCollateralToken;
    address[] swapPath;
}

struct CreateOrderParamsNumbers {
    uint256 sizeDeltaUsd;
    uint256 initialCollateralDeltaAmount;
    uint256 triggerPrice;
    uint256 acceptablePrice;
    uint256 executionFee;
    uint256 callbackGasLimit;
    uint256 minOutputAmount;
    uint256 validFromTime;
}

struct CreateOrderParams {
    CreateOrderParamsAddresses addresses;
    CreateOrderParamsNumbers numbers;
    OrderType orderType;
    DecreasePositionSwapType decreasePositionSwapType;
    bool isLong;
    bool shouldUnwrapNativeToken;
    bool autoCancel;
    bytes32 referralCode;
    bytes32[] dataList;
}

// Order.Props as the SDK's SyntheticsReader.getOrder returns it (with srcChainId, always 0).
struct OrderAddresses {
    address account;
    address receiver;
    address cancellationReceiver;
    address callbackContract;
    address uiFeeReceiver;
    address market;
    address initialCollateralToken;
    address[] swapPath;
}

struct OrderNumbers {
    OrderType orderType;
    DecreasePositionSwapType decreasePositionSwapType;
    uint256 sizeDeltaUsd;
    uint256 initialCollateralDeltaAmount;
    uint256 triggerPrice;
    uint256 acceptablePrice;
    uint256 executionFee;
    uint256 callbackGasLimit;
    uint256 minOutputAmount;
    uint256 updatedAtTime;
    uint256 validFromTime;
    uint256 srcChainId;
}

struct OrderFlags {
    bool isLong;
    bool shouldUnwrapNativeToken;
    bool isFrozen;
    bool autoCancel;
}

struct OrderProps {
    OrderAddresses addresses;
    OrderNumbers numbers;
    OrderFlags flags;
    bytes32[] _dataList;
}

// Position.Props as the SDK's SyntheticsReader.getPosition returns it.
struct PositionAddresses {
    address account;
    address market;
    address collateralToken;
}

struct PositionNumbers {
    uint256 sizeInUsd;
    uint256 sizeInTokens;
    uint256 collateralAmount;
    int256 pendingImpactAmount;
    uint256 borrowingFactor;
    uint256 fundingFeeAmountPerSize;
    uint256 longTokenClaimableFundingAmountPerSize;
    uint256 shortTokenClaimableFundingAmountPerSize;
    uint256 increasedAtTime;
    uint256 decreasedAtTime;
}

struct PositionFlags {
    bool isLong;
}

struct PositionProps {
    PositionAddresses addresses;
    PositionNumbers numbers;
    PositionFlags flags;
}

// EventUtils.EventLogData: seven item groups, each {KeyValue[] items; ArrayKeyValue[] arrayItems}.
struct AddressKeyValue {
    string key;
    address value;
}

struct AddressArrayKeyValue {
    string key;
    address[] value;
}

struct AddressItems {
    AddressKeyValue[] items;
    AddressArrayKeyValue[] arrayItems;
}

struct UintKeyValue {
    string key;
    uint256 value;
}

struct UintArrayKeyValue {
    string key;
    uint256[] value;
}

struct UintItems {
    UintKeyValue[] items;
    UintArrayKeyValue[] arrayItems;
}

struct IntKeyValue {
    string key;
    int256 value;
}

struct IntArrayKeyValue {
    string key;
    int256[] value;
}

struct IntItems {
    IntKeyValue[] items;
    IntArrayKeyValue[] arrayItems;
}

struct BoolKeyValue {
    string key;
    bool value;
}

struct BoolArrayKeyValue {
    string key;
    bool[] value;
}

struct BoolItems {
    BoolKeyValue[] items;
    BoolArrayKeyValue[] arrayItems;
}

struct Bytes32KeyValue {
    string key;
    bytes32 value;
}

struct Bytes32ArrayKeyValue {
    string key;
    bytes32[] value;
}

struct Bytes32Items {
    Bytes32KeyValue[] items;
    Bytes32ArrayKeyValue[] arrayItems;
}

struct BytesKeyValue {
    string key;
    bytes value;
}

struct BytesArrayKeyValue {
    string key;
    bytes[] value;
}

struct BytesItems {
    BytesKeyValue[] items;
    BytesArrayKeyValue[] arrayItems;
}

struct StringKeyValue {
    string key;
    string value;
}

struct StringArrayKeyValue {
    string key;
    string[] value;
}

struct StringItems {
    StringKeyValue[] items;
    StringArrayKeyValue[] arrayItems;
}

struct EventLogData {
    AddressItems addressItems;
    UintItems uintItems;
    IntItems intItems;
    BoolItems boolItems;
    Bytes32Items bytes32Items;
    BytesItems bytesItems;
    StringItems stringItems;
}

// ---- GMX's custom errors (Errors.sol; same signatures as the SDK's CustomErrors ABI) ------
error Unauthorized(address msgSender, string role);
error OrderNotFound(bytes32 key);
error EmptyReceiver();
error InvalidReceiver(address receiver);
error EmptyMarket();
error InvalidSwapMarket(address market);
error InvalidCollateralTokenForMarket(address market, address token);
error OrderTypeCannotBeCreated(uint256 orderType);
error InsufficientExecutionFee(uint256 minExecutionFee, uint256 executionFee);
error MinPositionSize(uint256 positionSizeInUsd, uint256 minPositionSizeUsd);
error InsufficientCollateralUsd(int256 remainingCollateralUsd);
error InsufficientWntAmountForExecutionFee(uint256 wntAmount, uint256 executionFee);
error RequestNotYetCancellable(uint256 requestAge, uint256 requestExpirationAge, string requestType);
error OrderNotFulfillableAtAcceptablePrice(uint256 price, uint256 acceptablePrice);
error InvalidDecreaseOrderSize(uint256 sizeDeltaUsd, uint256 positionSizeInUsd);
error EmptyPosition();
error EmptyPrimaryPrice(address token);
error InvalidNativeTokenSender(address msgSender);
error TokenTransferError(address token, address receiver, uint256 amount);
// Local only: GMX takes the recorded-in amount as the collateral; here it must match.
error CollateralAmountMismatch(uint256 received, uint256 initialCollateralDeltaAmount);

// Keys.sol's keys, and one of our own (how the reader finds the order handler).
bytes32 constant REQUEST_EXPIRATION_TIME = keccak256(abi.encode("REQUEST_EXPIRATION_TIME"));
bytes32 constant ESTIMATED_GAS_FEE_BASE_AMOUNT_V2_1 = keccak256(abi.encode("ESTIMATED_GAS_FEE_BASE_AMOUNT_V2_1"));
bytes32 constant ESTIMATED_GAS_FEE_PER_ORACLE_PRICE = keccak256(abi.encode("ESTIMATED_GAS_FEE_PER_ORACLE_PRICE"));
bytes32 constant ESTIMATED_GAS_FEE_MULTIPLIER_FACTOR = keccak256(abi.encode("ESTIMATED_GAS_FEE_MULTIPLIER_FACTOR"));
bytes32 constant EXECUTION_GAS_FEE_BASE_AMOUNT_V2_1 = keccak256(abi.encode("EXECUTION_GAS_FEE_BASE_AMOUNT_V2_1"));
bytes32 constant EXECUTION_GAS_FEE_PER_ORACLE_PRICE = keccak256(abi.encode("EXECUTION_GAS_FEE_PER_ORACLE_PRICE"));
bytes32 constant EXECUTION_GAS_FEE_MULTIPLIER_FACTOR = keccak256(abi.encode("EXECUTION_GAS_FEE_MULTIPLIER_FACTOR"));
bytes32 constant INCREASE_ORDER_GAS_LIMIT = keccak256(abi.encode("INCREASE_ORDER_GAS_LIMIT"));
bytes32 constant DECREASE_ORDER_GAS_LIMIT = keccak256(abi.encode("DECREASE_ORDER_GAS_LIMIT"));
bytes32 constant MIN_COLLATERAL_USD = keccak256(abi.encode("MIN_COLLATERAL_USD"));
bytes32 constant MIN_POSITION_SIZE_USD = keccak256(abi.encode("MIN_POSITION_SIZE_USD"));
uint256 constant FLOAT_PRECISION = 10 ** 30;
// GasUtils.estimateOrderOraclePriceCount: 3 + swaps (no swaps here)
uint256 constant ORDER_ORACLE_PRICE_COUNT = 3;
bytes32 constant ORDER_HANDLER_KEY = keccak256(abi.encode("LOCAL_GMX_ORDER_HANDLER"));

function toBytes32(address a) pure returns (bytes32) {
    return bytes32(uint256(uint160(a)));
}

// ---- tokens ------------------------------------------------------------------------------

/// Minimal ERC20; `mint` is open to anyone (dev only).
contract GmxToken {
    string public name;
    string public symbol;
    uint8 public immutable decimals;
    uint256 public totalSupply;
    mapping(address => uint256) public balanceOf;
    mapping(address => mapping(address => uint256)) public allowance;

    event Transfer(address indexed from, address indexed to, uint256 value);
    event Approval(address indexed owner, address indexed spender, uint256 value);

    constructor(string memory name_, string memory symbol_, uint8 decimals_) {
        name = name_;
        symbol = symbol_;
        decimals = decimals_;
    }

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function approve(address spender, uint256 amount) external returns (bool) {
        allowance[msg.sender][spender] = amount;
        emit Approval(msg.sender, spender, amount);
        return true;
    }

    function transfer(address to, uint256 amount) external returns (bool) {
        _transfer(msg.sender, to, amount);
        return true;
    }

    function transferFrom(address from, address to, uint256 amount) external returns (bool) {
        uint256 allowed = allowance[from][msg.sender];
        if (allowed != type(uint256).max) {
            require(allowed >= amount, "ERC20: insufficient allowance");
            allowance[from][msg.sender] = allowed - amount;
        }
        _transfer(from, to, amount);
        return true;
    }

    function _transfer(address from, address to, uint256 amount) internal {
        require(to != address(0), "ERC20: transfer to zero");
        require(balanceOf[from] >= amount, "ERC20: insufficient balance");
        balanceOf[from] -= amount;
        balanceOf[to] += amount;
        emit Transfer(from, to, amount);
    }

    function _mint(address to, uint256 amount) internal {
        totalSupply += amount;
        balanceOf[to] += amount;
        emit Transfer(address(0), to, amount);
    }

    function _burn(address from, uint256 amount) internal {
        require(balanceOf[from] >= amount, "ERC20: insufficient balance");
        balanceOf[from] -= amount;
        totalSupply -= amount;
        emit Transfer(from, address(0), amount);
    }
}

/// Wrapped native token (WETH9-like, 18 decimals).
contract GmxWnt is GmxToken {
    event Deposit(address indexed dst, uint256 wad);
    event Withdrawal(address indexed src, uint256 wad);

    constructor() GmxToken("Wrapped Ether", "WETH", 18) {}

    receive() external payable {
        deposit();
    }

    function deposit() public payable {
        _mint(msg.sender, msg.value);
        emit Deposit(msg.sender, msg.value);
    }

    function withdraw(uint256 amount) external {
        _burn(msg.sender, amount);
        emit Withdrawal(msg.sender, amount);
        (bool ok, ) = msg.sender.call{value: amount}("");
        require(ok, "WNT: native transfer failed");
    }
}

// ---- roles, data store, events -----------------------------------------------------------

/// The deployer owns; owners grant roles. (GMX has a RoleStore; one owner is enough here.)
abstract contract GmxOwned {
    address public immutable owner;
    mapping(address => bool) public isController;

    constructor() {
        owner = msg.sender;
    }

    modifier onlyOwner() {
        if (msg.sender != owner) revert Unauthorized(msg.sender, "OWNER");
        _;
    }

    modifier onlyController() {
        if (!isController[msg.sender]) revert Unauthorized(msg.sender, "CONTROLLER");
        _;
    }

    function setController(address account, bool allowed) external onlyOwner {
        isController[account] = allowed;
    }
}

contract GmxDataStore is GmxOwned {
    mapping(bytes32 => uint256) public uintValues;
    mapping(bytes32 => address) public addressValues;
    mapping(bytes32 => bool) public boolValues;
    mapping(bytes32 => bytes32) public bytes32Values;
    mapping(bytes32 => address[]) internal addressSets;
    mapping(bytes32 => mapping(address => uint256)) internal addressSetIndex;

    // GMX's general config (config/general.ts) for everything but the gas limits, which fit
    // this venue's own execution (~200k gas, not GMX's ~3.9M).
    constructor() {
        uintValues[REQUEST_EXPIRATION_TIME] = 300;
        uintValues[ESTIMATED_GAS_FEE_BASE_AMOUNT_V2_1] = 100_000;
        uintValues[ESTIMATED_GAS_FEE_PER_ORACLE_PRICE] = 10_000;
        uintValues[ESTIMATED_GAS_FEE_MULTIPLIER_FACTOR] = FLOAT_PRECISION;
        uintValues[EXECUTION_GAS_FEE_BASE_AMOUNT_V2_1] = 100_000;
        uintValues[EXECUTION_GAS_FEE_PER_ORACLE_PRICE] = 10_000;
        uintValues[EXECUTION_GAS_FEE_MULTIPLIER_FACTOR] = FLOAT_PRECISION;
        uintValues[INCREASE_ORDER_GAS_LIMIT] = 300_000;
        uintValues[DECREASE_ORDER_GAS_LIMIT] = 300_000;
        uintValues[MIN_COLLATERAL_USD] = FLOAT_PRECISION; // 1 USD
        uintValues[MIN_POSITION_SIZE_USD] = FLOAT_PRECISION; // 1 USD
    }

    function getUint(bytes32 key) external view returns (uint256) {
        return uintValues[key];
    }

    // Writers: the owner (a test's or the demo's settings) or a controller (the subaccount
    // router, as GMX's routers are the DataStore's controllers).
    modifier onlyOwnerOrController() {
        if (msg.sender != owner && !isController[msg.sender]) revert Unauthorized(msg.sender, "CONTROLLER");
        _;
    }

    function setUint(bytes32 key, uint256 value) external onlyOwnerOrController returns (uint256) {
        uintValues[key] = value;
        return value;
    }

    function incrementUint(bytes32 key, uint256 value) external onlyOwnerOrController returns (uint256) {
        uintValues[key] += value;
        return uintValues[key];
    }

    function getBool(bytes32 key) external view returns (bool) {
        return boolValues[key];
    }

    function getBytes32(bytes32 key) external view returns (bytes32) {
        return bytes32Values[key];
    }

    // Address sets (GMX: OpenZeppelin EnumerableSet; here a list and 1-based indices).
    function containsAddress(bytes32 setKey, address value) external view returns (bool) {
        return addressSetIndex[setKey][value] != 0;
    }

    function getAddressCount(bytes32 setKey) external view returns (uint256) {
        return addressSets[setKey].length;
    }

    function getAddressValuesAt(bytes32 setKey, uint256 start, uint256 end) external view returns (address[] memory) {
        address[] storage all = addressSets[setKey];
        if (end > all.length) end = all.length;
        if (start >= end) return new address[](0);
        address[] memory out = new address[](end - start);
        for (uint256 i = start; i < end; i++) out[i - start] = all[i];
        return out;
    }

    function addAddress(bytes32 setKey, address value) external onlyOwnerOrController {
        if (addressSetIndex[setKey][value] != 0) return;
        addressSets[setKey].push(value);
        addressSetIndex[setKey][value] = addressSets[setKey].length;
    }

    function removeAddress(bytes32 setKey, address value) external onlyOwnerOrController {
        uint256 index = addressSetIndex[setKey][value];
        if (index == 0) return;
        address[] storage all = addressSets[setKey];
        address last = all[all.length - 1];
        all[index - 1] = last;
        addressSetIndex[setKey][last] = index;
        all.pop();
        delete addressSetIndex[setKey][value];
    }

    function getAddress(bytes32 key) external view returns (address) {
        return addressValues[key];
    }

    function setAddress(bytes32 key, address value) external onlyOwner returns (address) {
        addressValues[key] = value;
        return value;
    }
}

contract GmxEventEmitter is GmxOwned {
    event EventLog1(
        address msgSender,
        string eventName,
        string indexed eventNameHash,
        bytes32 indexed topic1,
        EventLogData eventData
    );

    event EventLog2(
        address msgSender,
        string eventName,
        string indexed eventNameHash,
        bytes32 indexed topic1,
        bytes32 indexed topic2,
        EventLogData eventData
    );

    function emitEventLog1(
        string memory eventName,
        bytes32 topic1,
        EventLogData memory eventData
    ) external onlyController {
        emit EventLog1(msg.sender, eventName, eventName, topic1, eventData);
    }

    function emitEventLog2(
        string memory eventName,
        bytes32 topic1,
        bytes32 topic2,
        EventLogData memory eventData
    ) external onlyController {
        emit EventLog2(msg.sender, eventName, eventName, topic1, topic2, eventData);
    }
}

// ---- token movement ----------------------------------------------------------------------

/// GMX's Router (the SDK's SyntheticsRouter): followers approve their tokens to this address.
contract GmxRouter is GmxOwned {
    mapping(address => bool) public isPlugin;

    function setPlugin(address plugin, bool allowed) external onlyOwner {
        isPlugin[plugin] = allowed;
    }

    function pluginTransfer(address token, address account, address receiver, uint256 amount) external {
        if (!isPlugin[msg.sender]) revert Unauthorized(msg.sender, "ROUTER_PLUGIN");
        if (!GmxToken(token).transferFrom(account, receiver, amount)) {
            revert TokenTransferError(token, receiver, amount);
        }
    }
}

/// Holds the orders' collateral and WNT execution fees, and (locally) the positions'
/// collateral too (GMX keeps that in the market's pool).
contract GmxOrderVault is GmxOwned {
    GmxWnt public immutable wnt;
    mapping(address => uint256) public tokenBalances;

    constructor(GmxWnt wnt_) {
        wnt = wnt_;
    }

    receive() external payable {
        if (msg.sender != address(wnt)) revert InvalidNativeTokenSender(msg.sender);
    }

    /// What arrived since the last record (GMX's StrictBank.recordTransferIn).
    function recordTransferIn(address token) external onlyController returns (uint256) {
        uint256 balance = GmxToken(token).balanceOf(address(this));
        uint256 received = balance - tokenBalances[token];
        tokenBalances[token] = balance;
        return received;
    }

    function transferOut(address token, address receiver, uint256 amount) external onlyController {
        _transferOut(token, receiver, amount);
    }

    /// Unwraps and sends native; falls back to WNT when the receiver refuses it (as GMX does).
    function transferOutNativeToken(address receiver, uint256 amount) external onlyController {
        if (amount == 0) return;
        wnt.withdraw(amount);
        tokenBalances[address(wnt)] = wnt.balanceOf(address(this));
        (bool ok, ) = receiver.call{value: amount, gas: 50_000}("");
        if (!ok) {
            wnt.deposit{value: amount}();
            _transferOut(address(wnt), receiver, amount);
        }
    }

    function _transferOut(address token, address receiver, uint256 amount) internal {
        if (amount == 0) return;
        if (!GmxToken(token).transfer(receiver, amount)) {
            revert TokenTransferError(token, receiver, amount);
        }
        tokenBalances[token] = GmxToken(token).balanceOf(address(this));
    }
}

// ---- event data (the item names and order of GMX's OrderEventUtils / PositionEventUtils) --

/// What one execution did to a position, for its PositionIncrease / PositionDecrease event.
struct Execution {
    bytes32 orderKey;
    bytes32 positionKey;
    uint256 price;
    uint256 collateralPrice;
    uint256 sizeDeltaUsd;
    uint256 sizeDeltaInTokens;
    uint256 collateralDeltaAmount;
    OrderType orderType;
}

function orderCreatedData(bytes32 key, OrderProps memory o) pure returns (EventLogData memory d) {
    OrderAddresses memory a = o.addresses;
    OrderNumbers memory n = o.numbers;
    AddressKeyValue[] memory ad = new AddressKeyValue[](7);
    ad[0] = AddressKeyValue("account", a.account);
    ad[1] = AddressKeyValue("receiver", a.receiver);
    ad[2] = AddressKeyValue("callbackContract", a.callbackContract);
    ad[3] = AddressKeyValue("uiFeeReceiver", a.uiFeeReceiver);
    ad[4] = AddressKeyValue("market", a.market);
    ad[5] = AddressKeyValue("initialCollateralToken", a.initialCollateralToken);
    ad[6] = AddressKeyValue("cancellationReceiver", a.cancellationReceiver);
    d.addressItems.items = ad;
    d.addressItems.arrayItems = new AddressArrayKeyValue[](1);
    d.addressItems.arrayItems[0] = AddressArrayKeyValue("swapPath", a.swapPath);

    UintKeyValue[] memory u = new UintKeyValue[](12);
    u[0] = UintKeyValue("orderType", uint256(n.orderType));
    u[1] = UintKeyValue("decreasePositionSwapType", uint256(n.decreasePositionSwapType));
    u[2] = UintKeyValue("sizeDeltaUsd", n.sizeDeltaUsd);
    u[3] = UintKeyValue("initialCollateralDeltaAmount", n.initialCollateralDeltaAmount);
    u[4] = UintKeyValue("triggerPrice", n.triggerPrice);
    u[5] = UintKeyValue("acceptablePrice", n.acceptablePrice);
    u[6] = UintKeyValue("executionFee", n.executionFee);
    u[7] = UintKeyValue("callbackGasLimit", n.callbackGasLimit);
    u[8] = UintKeyValue("minOutputAmount", n.minOutputAmount);
    u[9] = UintKeyValue("updatedAtTime", n.updatedAtTime);
    u[10] = UintKeyValue("validFromTime", n.validFromTime);
    u[11] = UintKeyValue("srcChainId", n.srcChainId);
    d.uintItems.items = u;

    // isFrozen as in the GMX releases that emitted it (current source dropped it); always false.
    BoolKeyValue[] memory b = new BoolKeyValue[](4);
    b[0] = BoolKeyValue("isLong", o.flags.isLong);
    b[1] = BoolKeyValue("shouldUnwrapNativeToken", o.flags.shouldUnwrapNativeToken);
    b[2] = BoolKeyValue("isFrozen", o.flags.isFrozen);
    b[3] = BoolKeyValue("autoCancel", o.flags.autoCancel);
    d.boolItems.items = b;

    d.bytes32Items.items = new Bytes32KeyValue[](1);
    d.bytes32Items.items[0] = Bytes32KeyValue("key", key);
    d.bytes32Items.arrayItems = new Bytes32ArrayKeyValue[](1);
    d.bytes32Items.arrayItems[0] = Bytes32ArrayKeyValue("dataList", o._dataList);
}

function orderKeyAccountData(bytes32 key, address account) pure returns (EventLogData memory d) {
    d.bytes32Items.items = new Bytes32KeyValue[](1);
    d.bytes32Items.items[0] = Bytes32KeyValue("key", key);
    d.addressItems.items = new AddressKeyValue[](1);
    d.addressItems.items[0] = AddressKeyValue("account", account);
}

function positionHead(PositionProps memory p, Execution memory e) pure returns (EventLogData memory d) {
    AddressKeyValue[] memory ad = new AddressKeyValue[](3);
    ad[0] = AddressKeyValue("account", p.addresses.account);
    ad[1] = AddressKeyValue("market", p.addresses.market);
    ad[2] = AddressKeyValue("collateralToken", p.addresses.collateralToken);
    d.addressItems.items = ad;
    d.boolItems.items = new BoolKeyValue[](1);
    d.boolItems.items[0] = BoolKeyValue("isLong", p.flags.isLong);
    d.bytes32Items.items = new Bytes32KeyValue[](2);
    d.bytes32Items.items[0] = Bytes32KeyValue("orderKey", e.orderKey);
    d.bytes32Items.items[1] = Bytes32KeyValue("positionKey", e.positionKey);
}

/// The first 14 uint items, common to PositionIncrease and PositionDecrease (one price, so
/// min == max; funding and borrowing are always 0 here).
function positionUints(
    PositionProps memory p,
    Execution memory e,
    uint256 length
) pure returns (UintKeyValue[] memory u) {
    u = new UintKeyValue[](length);
    u[0] = UintKeyValue("sizeInUsd", p.numbers.sizeInUsd);
    u[1] = UintKeyValue("sizeInTokens", p.numbers.sizeInTokens);
    u[2] = UintKeyValue("collateralAmount", p.numbers.collateralAmount);
    u[3] = UintKeyValue("borrowingFactor", 0);
    u[4] = UintKeyValue("fundingFeeAmountPerSize", 0);
    u[5] = UintKeyValue("longTokenClaimableFundingAmountPerSize", 0);
    u[6] = UintKeyValue("shortTokenClaimableFundingAmountPerSize", 0);
    u[7] = UintKeyValue("executionPrice", e.price);
    u[8] = UintKeyValue("indexTokenPrice.max", e.price);
    u[9] = UintKeyValue("indexTokenPrice.min", e.price);
    u[10] = UintKeyValue("collateralTokenPrice.max", e.collateralPrice);
    u[11] = UintKeyValue("collateralTokenPrice.min", e.collateralPrice);
    u[12] = UintKeyValue("sizeDeltaUsd", e.sizeDeltaUsd);
    u[13] = UintKeyValue("sizeDeltaInTokens", e.sizeDeltaInTokens);
}

function positionIncreaseData(PositionProps memory p, Execution memory e) pure returns (EventLogData memory d) {
    d = positionHead(p, e);
    UintKeyValue[] memory u = positionUints(p, e, 16);
    u[14] = UintKeyValue("orderType", uint256(e.orderType));
    u[15] = UintKeyValue("increasedAtTime", p.numbers.increasedAtTime);
    d.uintItems.items = u;
    IntKeyValue[] memory i = new IntKeyValue[](3);
    // int for an increase, uint for a decrease, as in PositionEventUtils
    i[0] = IntKeyValue("collateralDeltaAmount", int256(e.collateralDeltaAmount));
    i[1] = IntKeyValue("pendingPriceImpactUsd", 0);
    i[2] = IntKeyValue("pendingPriceImpactAmount", 0);
    d.intItems.items = i;
}

function positionDecreaseData(PositionProps memory p, Execution memory e) pure returns (EventLogData memory d) {
    d = positionHead(p, e);
    UintKeyValue[] memory u = positionUints(p, e, 18);
    u[14] = UintKeyValue("collateralDeltaAmount", e.collateralDeltaAmount);
    u[15] = UintKeyValue("values.priceImpactDiffUsd", 0);
    u[16] = UintKeyValue("orderType", uint256(e.orderType));
    u[17] = UintKeyValue("decreasedAtTime", p.numbers.decreasedAtTime);
    d.uintItems.items = u;
    IntKeyValue[] memory i = new IntKeyValue[](5);
    i[0] = IntKeyValue("priceImpactUsd", 0);
    i[1] = IntKeyValue("basePnlUsd", 0);
    i[2] = IntKeyValue("uncappedBasePnlUsd", 0);
    i[3] = IntKeyValue("proportionalPendingImpactUsd", 0);
    i[4] = IntKeyValue("totalImpactUsd", 0);
    d.intItems.items = i;
}

/// GMX's OrderEventUtils / PositionEventUtils: an external library (linked into
/// GmxOrderHandler at deployment, as GMX links its own), which keeps the handler under the
/// 24 KiB code size limit. Delegatecalled, so the emitter sees the handler as msg.sender.
library GmxEventUtils {
    function emitOrderCreated(GmxEventEmitter emitter, bytes32 key, OrderProps memory o) external {
        emitter.emitEventLog2("OrderCreated", key, toBytes32(o.addresses.account), orderCreatedData(key, o));
    }

    function emitOrderExecuted(
        GmxEventEmitter emitter,
        bytes32 key,
        address account,
        uint256 secondaryOrderType
    ) external {
        EventLogData memory d = orderKeyAccountData(key, account);
        d.uintItems.items = new UintKeyValue[](1);
        d.uintItems.items[0] = UintKeyValue("secondaryOrderType", secondaryOrderType);
        emitter.emitEventLog2("OrderExecuted", key, toBytes32(account), d);
    }

    function emitOrderCancelled(
        GmxEventEmitter emitter,
        bytes32 key,
        address account,
        string memory reason,
        bytes memory reasonBytes
    ) external {
        EventLogData memory d = orderKeyAccountData(key, account);
        d.stringItems.items = new StringKeyValue[](1);
        d.stringItems.items[0] = StringKeyValue("reason", reason);
        d.bytesItems.items = new BytesKeyValue[](1);
        d.bytesItems.items[0] = BytesKeyValue("reasonBytes", reasonBytes);
        emitter.emitEventLog2("OrderCancelled", key, toBytes32(account), d);
    }

    function emitPositionIncrease(GmxEventEmitter emitter, PositionProps memory p, Execution memory e) external {
        emitter.emitEventLog1("PositionIncrease", toBytes32(p.addresses.account), positionIncreaseData(p, e));
    }

    function emitPositionDecrease(GmxEventEmitter emitter, PositionProps memory p, Execution memory e) external {
        emitter.emitEventLog1("PositionDecrease", toBytes32(p.addresses.account), positionDecreaseData(p, e));
    }
}

// ---- orders and positions ----------------------------------------------------------------

/// Orders, positions and keeper execution (GMX's OrderHandler + OrderUtils + the position
/// stores in one). createOrder / cancelOrder come from the exchange router (a controller);
/// executeOrder / cancelOrderByKeeper from a keeper the owner registers.
contract GmxOrderHandler is GmxOwned {
    struct Market {
        address indexToken;
        uint8 indexDecimals;
        address longToken;
        address shortToken;
        bool exists;
    }

    GmxDataStore public immutable dataStore;
    GmxEventEmitter public immutable eventEmitter;
    GmxOrderVault public immutable orderVault;
    address public immutable wnt;

    mapping(address => bool) public isKeeper;
    mapping(address => Market) public markets;
    uint256 public nonce;

    mapping(bytes32 => OrderProps) internal orders;
    bytes32[] internal orderKeys;
    mapping(bytes32 => uint256) internal orderIndex; // 1-based; 0: absent
    mapping(bytes32 => PositionProps) internal positions;
    mapping(address => bytes32[]) internal accountPositionKeys;
    mapping(bytes32 => uint256) internal positionIndex; // 1-based; 0: absent
    uint256 private locked = 1;

    constructor(GmxDataStore dataStore_, GmxEventEmitter eventEmitter_, GmxOrderVault orderVault_) {
        dataStore = dataStore_;
        eventEmitter = eventEmitter_;
        orderVault = orderVault_;
        wnt = address(orderVault_.wnt());
    }

    modifier nonReentrant() {
        require(locked == 1);
        locked = 2;
        _;
        locked = 1;
    }

    modifier onlyKeeper() {
        if (!isKeeper[msg.sender]) revert Unauthorized(msg.sender, "ORDER_KEEPER");
        _;
    }

    function setKeeper(address account, bool allowed) external onlyOwner {
        isKeeper[account] = allowed;
    }

    function addMarket(
        address market,
        address indexToken,
        uint8 indexDecimals,
        address longToken,
        address shortToken
    ) external onlyOwner {
        markets[market] = Market(indexToken, indexDecimals, longToken, shortToken, true);
    }

    // -- user requests (through GmxExchangeRouter) ----------------------------------------

    function createOrder(
        address account,
        CreateOrderParams calldata params
    ) external onlyController nonReentrant returns (bytes32 key) {
        bool isIncrease = params.orderType == OrderType.MarketIncrease;
        if (!isIncrease && params.orderType != OrderType.MarketDecrease) {
            revert OrderTypeCannotBeCreated(uint256(params.orderType));
        }
        CreateOrderParamsAddresses calldata a = params.addresses;
        Market storage m = markets[a.market];
        if (!m.exists) revert EmptyMarket();
        if (a.receiver == address(0)) revert EmptyReceiver();
        if (a.swapPath.length != 0) revert InvalidSwapMarket(a.swapPath[0]);
        // Local restriction: collateral is the market's short token (USDC); GMX also takes
        // the long token.
        if (a.initialCollateralToken != m.shortToken) {
            revert InvalidCollateralTokenForMarket(a.market, a.initialCollateralToken);
        }
        uint256 wntAmount = orderVault.recordTransferIn(wnt);
        if (params.numbers.executionFee == 0) revert InsufficientExecutionFee(1, 0);
        if (wntAmount < params.numbers.executionFee) {
            revert InsufficientWntAmountForExecutionFee(wntAmount, params.numbers.executionFee);
        }
        _validateExecutionFee(isIncrease, params.numbers.callbackGasLimit, wntAmount);
        if (isIncrease) {
            uint256 received = orderVault.recordTransferIn(a.initialCollateralToken);
            if (received != params.numbers.initialCollateralDeltaAmount) {
                revert CollateralAmountMismatch(received, params.numbers.initialCollateralDeltaAmount);
            }
        }
        nonce += 1;
        key = keccak256(abi.encode(address(dataStore), nonce));

        OrderProps memory o;
        o.addresses = OrderAddresses(
            account,
            a.receiver,
            a.cancellationReceiver,
            a.callbackContract,
            a.uiFeeReceiver,
            a.market,
            a.initialCollateralToken,
            new address[](0)
        );
        CreateOrderParamsNumbers calldata pn = params.numbers;
        // GMX keeps all the WNT sent as the execution fee
        o.numbers = OrderNumbers(
            params.orderType,
            params.decreasePositionSwapType,
            pn.sizeDeltaUsd,
            pn.initialCollateralDeltaAmount,
            pn.triggerPrice,
            pn.acceptablePrice,
            wntAmount,
            pn.callbackGasLimit,
            pn.minOutputAmount,
            block.timestamp,
            pn.validFromTime,
            0
        );
        o.flags = OrderFlags(params.isLong, params.shouldUnwrapNativeToken, false, params.autoCancel);
        o._dataList = params.dataList;
        orders[key] = o;
        orderKeys.push(key);
        orderIndex[key] = orderKeys.length;

        GmxEventUtils.emitOrderCreated(eventEmitter, key, o);
    }

    function cancelOrder(address account, bytes32 key) external onlyController nonReentrant {
        OrderProps storage o = _order(key);
        if (o.addresses.account != account) revert Unauthorized(account, "account for cancelOrder");
        uint256 age = block.timestamp - o.numbers.updatedAtTime;
        uint256 expiration = dataStore.getUint(REQUEST_EXPIRATION_TIME);
        if (age < expiration) revert RequestNotYetCancellable(age, expiration, "Order");
        _cancel(key, "USER_INITIATED_CANCEL", "");
    }

    // -- keeper ---------------------------------------------------------------------------

    /// Executes at `indexTokenPrice` (30 decimals per index token unit: USD * 10^(30 - index
    /// decimals)), or cancels (not reverts) when the order cannot be filled, like GMX.
    function executeOrder(bytes32 key, uint256 indexTokenPrice) external onlyKeeper nonReentrant {
        uint256 startingGas = gasleft();
        OrderProps memory o = _order(key);
        if (indexTokenPrice == 0) revert EmptyPrimaryPrice(markets[o.addresses.market].indexToken);
        bool isIncrease = o.numbers.orderType == OrderType.MarketIncrease;
        uint256 acceptable = o.numbers.acceptablePrice;
        // long increase / short decrease want a low price; short increase / long decrease a high one
        bool fulfillable = isIncrease == o.flags.isLong
            ? indexTokenPrice <= acceptable
            : indexTokenPrice >= acceptable;
        if (!fulfillable) {
            _cancel(
                key,
                "OrderNotFulfillableAtAcceptablePrice",
                abi.encodeWithSelector(OrderNotFulfillableAtAcceptablePrice.selector, indexTokenPrice, acceptable)
            );
            return;
        }
        Execution memory e;
        e.orderKey = key;
        e.positionKey = keccak256(
            abi.encode(o.addresses.account, o.addresses.market, o.addresses.initialCollateralToken, o.flags.isLong)
        );
        e.price = indexTokenPrice;
        e.collateralPrice = 10 ** (30 - GmxToken(o.addresses.initialCollateralToken).decimals());
        e.sizeDeltaUsd = o.numbers.sizeDeltaUsd;
        e.orderType = o.numbers.orderType;
        if (isIncrease) {
            PositionProps storage held = positions[e.positionKey];
            uint256 size = held.numbers.sizeInUsd + e.sizeDeltaUsd;
            uint256 minSize = dataStore.getUint(MIN_POSITION_SIZE_USD);
            if (size < minSize) {
                _cancel(key, "MinPositionSize", abi.encodeWithSelector(MinPositionSize.selector, size, minSize));
                return;
            }
            uint256 collateralUsd = (held.numbers.collateralAmount + o.numbers.initialCollateralDeltaAmount) *
                e.collateralPrice;
            if (collateralUsd < dataStore.getUint(MIN_COLLATERAL_USD)) {
                _cancel(
                    key,
                    "InsufficientCollateralUsd",
                    abi.encodeWithSelector(InsufficientCollateralUsd.selector, int256(collateralUsd))
                );
                return;
            }
            _increase(o, e);
        } else {
            PositionProps storage p = positions[e.positionKey];
            if (p.addresses.account == address(0)) {
                _cancel(key, "EmptyPosition", abi.encodeWithSelector(EmptyPosition.selector));
                return;
            }
            if (e.sizeDeltaUsd > p.numbers.sizeInUsd) {
                _cancel(
                    key,
                    "InvalidDecreaseOrderSize",
                    abi.encodeWithSelector(InvalidDecreaseOrderSize.selector, e.sizeDeltaUsd, p.numbers.sizeInUsd)
                );
                return;
            }
            _decrease(o, e);
        }
        GmxEventUtils.emitOrderExecuted(eventEmitter, key, o.addresses.account, 0);
        _removeOrder(key);
        _payExecutionFee(o, startingGas);
    }

    /// LiquidationHandler.executeLiquidation (secondaryOrderType 0, orderType Liquidation) and
    /// AdlHandler.executeAdl (a MarketDecrease of `sizeDeltaUsd` with secondaryOrderType
    /// Adl = 1), reduced: the keeper decreases `account`'s position at `indexTokenPrice`
    /// without a request of the account's (no PnL here: what collateral the decrease pays
    /// out goes to the account). sizeDeltaUsd 0: the whole position.
    function executeForcedDecrease(
        address account,
        address market,
        address collateralToken,
        bool isLong,
        uint256 sizeDeltaUsd,
        uint256 indexTokenPrice,
        bool adl
    ) external onlyKeeper nonReentrant {
        Execution memory e;
        e.positionKey = keccak256(abi.encode(account, market, collateralToken, isLong));
        PositionProps storage p = positions[e.positionKey];
        if (p.addresses.account == address(0)) revert EmptyPosition();
        e.sizeDeltaUsd = sizeDeltaUsd == 0 ? p.numbers.sizeInUsd : sizeDeltaUsd;
        if (e.sizeDeltaUsd > p.numbers.sizeInUsd) {
            revert InvalidDecreaseOrderSize(e.sizeDeltaUsd, p.numbers.sizeInUsd);
        }
        OrderProps memory o;
        o.addresses.account = account;
        o.addresses.receiver = account;
        o.addresses.market = market;
        o.addresses.initialCollateralToken = collateralToken;
        o.flags.isLong = isLong;
        o.numbers.orderType = adl ? OrderType.MarketDecrease : OrderType.Liquidation;
        o.numbers.sizeDeltaUsd = e.sizeDeltaUsd;
        e.orderKey = keccak256(abi.encode(e.positionKey, block.number, adl));
        e.price = indexTokenPrice;
        e.collateralPrice = 10 ** (30 - GmxToken(collateralToken).decimals());
        e.orderType = o.numbers.orderType;
        _decrease(o, e);
        GmxEventUtils.emitOrderExecuted(eventEmitter, e.orderKey, account, adl ? 1 : 0);
    }

    function cancelOrderByKeeper(bytes32 key, string calldata reason) external onlyKeeper nonReentrant {
        _order(key);
        _cancel(key, reason, "");
    }

    // -- views ----------------------------------------------------------------------------

    function getOrder(bytes32 key) external view returns (OrderProps memory) {
        return orders[key];
    }

    function getOrderCount() external view returns (uint256) {
        return orderKeys.length;
    }

    /// Pending order keys in [start, end) (end capped at the count), like GMX's stores.
    function getOrderKeys(uint256 start, uint256 end) external view returns (bytes32[] memory) {
        return _slice(orderKeys, start, end);
    }

    function getPosition(bytes32 key) external view returns (PositionProps memory) {
        return positions[key];
    }

    function getAccountPositionCount(address account) external view returns (uint256) {
        return accountPositionKeys[account].length;
    }

    function getAccountPositionKeys(
        address account,
        uint256 start,
        uint256 end
    ) external view returns (bytes32[] memory) {
        return _slice(accountPositionKeys[account], start, end);
    }

    // -- internals ------------------------------------------------------------------------

    /// GasUtils.validateExecutionFee: the fee must cover the order type's estimated gas
    /// limit, adjusted (base + per oracle price + multiplier), at the request's tx.gasprice.
    function _validateExecutionFee(bool isIncrease, uint256 callbackGasLimit, uint256 fee) internal view {
        uint256 estimated = dataStore.getUint(isIncrease ? INCREASE_ORDER_GAS_LIMIT : DECREASE_ORDER_GAS_LIMIT) +
            callbackGasLimit;
        uint256 gasLimit = dataStore.getUint(ESTIMATED_GAS_FEE_BASE_AMOUNT_V2_1) +
            dataStore.getUint(ESTIMATED_GAS_FEE_PER_ORACLE_PRICE) *
            ORDER_ORACLE_PRICE_COUNT +
            (estimated * dataStore.getUint(ESTIMATED_GAS_FEE_MULTIPLIER_FACTOR)) /
            FLOAT_PRECISION;
        uint256 minExecutionFee = gasLimit * tx.gasprice;
        if (fee < minExecutionFee) revert InsufficientExecutionFee(minExecutionFee, fee);
    }

    /// GasUtils.payExecutionFee: the keeper gets the gas it used (adjusted) at its own
    /// tx.gasprice, at most the fee; the rest goes back to the order's receiver.
    function _payExecutionFee(OrderProps memory o, uint256 startingGas) internal {
        uint256 gasUsed = startingGas - gasleft();
        uint256 forKeeper = (dataStore.getUint(EXECUTION_GAS_FEE_BASE_AMOUNT_V2_1) +
            dataStore.getUint(EXECUTION_GAS_FEE_PER_ORACLE_PRICE) *
            ORDER_ORACLE_PRICE_COUNT +
            (gasUsed * dataStore.getUint(EXECUTION_GAS_FEE_MULTIPLIER_FACTOR)) /
            FLOAT_PRECISION) * tx.gasprice;
        uint256 fee = o.numbers.executionFee;
        if (forKeeper > fee) forKeeper = fee;
        orderVault.transferOutNativeToken(msg.sender, forKeeper);
        if (fee > forKeeper) orderVault.transferOutNativeToken(o.addresses.receiver, fee - forKeeper);
    }

    function _order(bytes32 key) internal view returns (OrderProps storage o) {
        o = orders[key];
        if (o.addresses.account == address(0)) revert OrderNotFound(key);
    }

    function _increase(OrderProps memory o, Execution memory e) internal {
        PositionProps storage p = positions[e.positionKey];
        if (p.addresses.account == address(0)) {
            p.addresses = PositionAddresses(o.addresses.account, o.addresses.market, o.addresses.initialCollateralToken);
            p.flags.isLong = o.flags.isLong;
            bytes32[] storage keys = accountPositionKeys[o.addresses.account];
            keys.push(e.positionKey);
            positionIndex[e.positionKey] = keys.length;
        }
        // GMX rounds a long's tokens down and a short's up
        e.sizeDeltaInTokens = o.flags.isLong
            ? e.sizeDeltaUsd / e.price
            : (e.sizeDeltaUsd + e.price - 1) / e.price;
        e.collateralDeltaAmount = o.numbers.initialCollateralDeltaAmount;
        p.numbers.sizeInUsd += e.sizeDeltaUsd;
        p.numbers.sizeInTokens += e.sizeDeltaInTokens;
        p.numbers.collateralAmount += e.collateralDeltaAmount;
        p.numbers.increasedAtTime = block.timestamp;
        GmxEventUtils.emitPositionIncrease(eventEmitter, p, e);
    }

    /// No PnL: collateral only. The withdrawn collateral is initialCollateralDeltaAmount
    /// (capped at the position's), or all of it when the position closes.
    function _decrease(OrderProps memory o, Execution memory e) internal {
        PositionProps storage p = positions[e.positionKey];
        PositionNumbers storage n = p.numbers;
        e.sizeDeltaInTokens = e.sizeDeltaUsd == n.sizeInUsd
            ? n.sizeInTokens
            : (n.sizeInTokens * e.sizeDeltaUsd) / n.sizeInUsd;
        n.sizeInUsd -= e.sizeDeltaUsd;
        n.sizeInTokens -= e.sizeDeltaInTokens;
        uint256 out = o.numbers.initialCollateralDeltaAmount;
        if (out > n.collateralAmount || n.sizeInUsd == 0) out = n.collateralAmount;
        n.collateralAmount -= out;
        n.decreasedAtTime = block.timestamp;
        e.collateralDeltaAmount = out;
        PositionProps memory after_ = p;
        if (n.sizeInUsd == 0) _removePosition(o.addresses.account, e.positionKey);
        orderVault.transferOut(o.addresses.initialCollateralToken, o.addresses.receiver, out);
        GmxEventUtils.emitPositionDecrease(eventEmitter, after_, e);
    }

    /// Refunds the increase's collateral and the whole execution fee to the account.
    function _cancel(bytes32 key, string memory reason, bytes memory reasonBytes) internal {
        OrderProps memory o = orders[key];
        _removeOrder(key);
        if (o.numbers.orderType == OrderType.MarketIncrease) {
            orderVault.transferOut(
                o.addresses.initialCollateralToken,
                o.addresses.account,
                o.numbers.initialCollateralDeltaAmount
            );
        }
        orderVault.transferOutNativeToken(o.addresses.account, o.numbers.executionFee);
        GmxEventUtils.emitOrderCancelled(eventEmitter, key, o.addresses.account, reason, reasonBytes);
    }

    function _removeOrder(bytes32 key) internal {
        delete orders[key];
        _removeKey(orderKeys, orderIndex, key);
    }

    function _removePosition(address account, bytes32 key) internal {
        delete positions[key];
        _removeKey(accountPositionKeys[account], positionIndex, key);
    }

    function _removeKey(bytes32[] storage keys, mapping(bytes32 => uint256) storage index, bytes32 key) internal {
        uint256 i = index[key];
        bytes32 last = keys[keys.length - 1];
        keys[i - 1] = last;
        index[last] = i;
        keys.pop();
        delete index[key];
    }

    function _slice(bytes32[] storage keys, uint256 start, uint256 end) internal view returns (bytes32[] memory out) {
        if (end > keys.length) end = keys.length;
        if (start >= end) return new bytes32[](0);
        out = new bytes32[](end - start);
        for (uint256 i = start; i < end; i++) out[i - start] = keys[i];
    }
}

// ---- entry points ------------------------------------------------------------------------

/// GMX's ExchangeRouter: what a follower's transaction calls, usually as one multicall
/// [sendWnt(orderVault, fee), sendTokens(USDC, orderVault, collateral), createOrder(params)].
contract GmxExchangeRouter {
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

    /// Wraps `amount` of this transaction's value to WNT for the order vault (GMX accepts any
    /// receiver; only the vault makes sense, so only it is accepted here).
    function sendWnt(address receiver, uint256 amount) external payable {
        if (receiver != address(orderVault)) revert InvalidReceiver(receiver);
        wnt.deposit{value: amount}();
        if (!wnt.transfer(receiver, amount)) revert TokenTransferError(address(wnt), receiver, amount);
    }

    function sendTokens(address token, address receiver, uint256 amount) external payable {
        if (receiver == address(0)) revert EmptyReceiver();
        router.pluginTransfer(token, msg.sender, receiver, amount);
    }

    function createOrder(CreateOrderParams calldata params) external payable returns (bytes32) {
        return orderHandler.createOrder(msg.sender, params);
    }

    function cancelOrder(bytes32 key) external payable {
        orderHandler.cancelOrder(msg.sender, key);
    }
}

/// GMX's Reader (the SDK's SyntheticsReader); finds the order handler through the data store.
contract GmxReader {
    function getPosition(address dataStore, bytes32 key) external view returns (PositionProps memory) {
        return _handler(dataStore).getPosition(key);
    }

    function getAccountPositions(
        address dataStore,
        address account,
        uint256 start,
        uint256 end
    ) external view returns (PositionProps[] memory) {
        GmxOrderHandler handler = _handler(dataStore);
        bytes32[] memory keys = handler.getAccountPositionKeys(account, start, end);
        PositionProps[] memory positions = new PositionProps[](keys.length);
        for (uint256 i; i < keys.length; i++) positions[i] = handler.getPosition(keys[i]);
        return positions;
    }

    function getOrder(address dataStore, bytes32 key) external view returns (OrderProps memory) {
        return _handler(dataStore).getOrder(key);
    }

    function _handler(address dataStore) internal view returns (GmxOrderHandler) {
        return GmxOrderHandler(GmxDataStore(dataStore).getAddress(ORDER_HANDLER_KEY));
    }
}
