`resetall
`timescale 1ns / 1ps
`default_nettype none

// Hand-written behavioural baseline for the benchmark (not generated): a plain ROWS x COLS MAC array written the way a
// user would by hand, acc <= acc + (a - zero_point) * w with `*`, no requantizer, no double buffer; the sums are read
// one per `shift` through an index into the accumulators. Same ports as the generated gemm_array, so that the benchmark
// compares the array alone with it (logic cells per MAC).
module gemm_array_baseline #(
    parameter ROWS = 8,
    parameter COLS = 8,
    parameter A_BITS = 4,
    parameter W_BITS = 4,
    parameter ACC_WIDTH = 20
) (
    input  wire                     clk,
    input  wire                     rst,
    input  wire                     step,
    input  wire                     step_last,
    input  wire [ROWS*A_BITS-1:0]   act,
    input  wire [A_BITS-1:0]        zero_point,
    input  wire                     zero_act,
    input  wire [COLS*W_BITS-1:0]   wgt,
    input  wire                     shift,
    output wire [ACC_WIDTH-1:0]     head,
    output wire                     tile_ready
);

localparam INDEX_WIDTH = ROWS * COLS > 1 ? $clog2(ROWS * COLS) : 1;

reg [ROWS*COLS*ACC_WIDTH-1:0] acc_reg = {(ROWS*COLS*ACC_WIDTH){1'b0}};
reg first_reg = 1'b1;
reg tile_ready_reg = 1'b0;
reg [INDEX_WIDTH-1:0] index_reg = {INDEX_WIDTH{1'b0}};

generate
    genvar r, c;
    for (c = 0; c < COLS; c = c + 1) begin : column
        for (r = 0; r < ROWS; r = r + 1) begin : row
            wire signed [A_BITS:0] a_centered = $signed({1'b0, act[r*A_BITS +: A_BITS]}) - $signed({1'b0, zero_point});
            wire signed [ACC_WIDTH-1:0] term = zero_act ? {ACC_WIDTH{1'b0}} : a_centered * $signed(wgt[c*W_BITS +: W_BITS]);
            wire signed [ACC_WIDTH-1:0] acc = acc_reg[(c*ROWS + r)*ACC_WIDTH +: ACC_WIDTH];
            always @(posedge clk) begin
                if (step) acc_reg[(c*ROWS + r)*ACC_WIDTH +: ACC_WIDTH] <= (first_reg ? {ACC_WIDTH{1'b0}} : acc) + term;
            end
        end
    end
endgenerate

always @(posedge clk) begin
    if (step) first_reg <= step_last;
    tile_ready_reg <= step && step_last;
    if (tile_ready_reg) index_reg <= {INDEX_WIDTH{1'b0}};
    else if (shift) index_reg <= index_reg + 1'b1;
    if (rst) begin
        first_reg <= 1'b1;
        tile_ready_reg <= 1'b0;
        index_reg <= {INDEX_WIDTH{1'b0}};
    end
end

assign head = acc_reg[index_reg*ACC_WIDTH +: ACC_WIDTH];
assign tile_ready = tile_ready_reg;

endmodule

`resetall
