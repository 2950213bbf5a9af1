// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title PerpRouter: a minimal perpetuals venue for copytrade's tests and demo.
/// @notice Records one position per (trader, asset). Notional = collateral x leverage.
///         Prices and sizes are micro-USD (1e6). It does not custody funds: it is a
///         recorder of orders whose on-chain state tests compare with what was intended.
contract PerpRouter {
    uint8 public constant ACTION_OPEN = 0;
    uint8 public constant ACTION_INCREASE = 1;
    uint8 public constant ACTION_DECREASE = 2;
    uint8 public constant ACTION_CLOSE = 3;

    struct Position {
        bool isLong;
        uint256 sizeUsd;
        uint256 collateralUsd;
    }

    address public owner;
    mapping(bytes32 => uint256) public prices;
    mapping(address => mapping(bytes32 => Position)) public positions;

    event Order(
        address indexed trader,
        bytes32 indexed asset,
        bytes32 indexed clientOrderId,
        uint8 action,
        bool isLong,
        uint256 collateralUsd,
        uint256 leverage,
        uint256 sizeUsd,
        uint256 price
    );
    event PriceSet(bytes32 indexed asset, uint256 price);

    constructor() {
        owner = msg.sender;
    }

    function setPrice(bytes32 asset, uint256 price) external {
        require(msg.sender == owner, "only owner");
        require(price > 0, "price zero");
        prices[asset] = price;
        emit PriceSet(asset, price);
    }

    function placeOrder(
        uint8 action,
        bytes32 asset,
        bool isLong,
        uint256 collateralUsd,
        uint256 leverage,
        uint256 acceptablePrice,
        bytes32 clientOrderId
    ) external {
        uint256 price = prices[asset];
        require(price > 0, "unknown asset");
        Position storage p = positions[msg.sender][asset];
        // Opening or adding buys for a long and sells for a short; reducing does the opposite.
        bool buying = (action == ACTION_OPEN || action == ACTION_INCREASE) ? isLong : !isLong;
        if (buying) {
            require(price <= acceptablePrice, "slippage");
        } else {
            require(price >= acceptablePrice, "slippage");
        }
        uint256 sizeUsd = collateralUsd * leverage;
        if (action == ACTION_OPEN || action == ACTION_INCREASE) {
            require(leverage > 0 && collateralUsd > 0, "zero size");
            if (p.sizeUsd == 0) {
                p.isLong = isLong;
            } else {
                require(p.isLong == isLong, "side mismatch");
            }
            p.sizeUsd += sizeUsd;
            p.collateralUsd += collateralUsd;
        } else if (action == ACTION_DECREASE) {
            require(p.sizeUsd > 0 && p.isLong == isLong, "no position");
            require(sizeUsd <= p.sizeUsd, "decrease beyond position");
            p.sizeUsd -= sizeUsd;
            p.collateralUsd = collateralUsd >= p.collateralUsd ? 0 : p.collateralUsd - collateralUsd;
            if (p.sizeUsd == 0) {
                p.collateralUsd = 0;
            }
        } else if (action == ACTION_CLOSE) {
            require(p.sizeUsd > 0, "no position");
            sizeUsd = p.sizeUsd;
            isLong = p.isLong;
            p.sizeUsd = 0;
            p.collateralUsd = 0;
        } else {
            revert("bad action");
        }
        emit Order(msg.sender, asset, clientOrderId, action, isLong, collateralUsd, leverage, sizeUsd, price);
    }
}
