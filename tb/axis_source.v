`resetall
`timescale 1ns / 1ps
`default_nettype none

// Testbench stream source: plays the beats of a $readmemh file (one {epoch, tlast, tdata} word per line), with random gaps
// in tvalid when STALL_PERCENT > 0. A presented beat is held until accepted, as AXI-Stream requires. The gaps come
// from a xorshift32 generator rather than $random so that every simulator sees the same stall pattern.
// A reset restarts the stream: from beat 0 at the first reset, from beat RESTART_INDEX at any later (mid-stream) one.
// A beat is presented only once the testbench's epoch has reached the beat's epoch; pending_epoch tells the
// testbench the epoch of the first beat not yet accepted (all ones when the stream is done).
module axis_source #(
    // Width of tdata
    parameter DATA_WIDTH = 8,
    // Number of beats in FILE (at least 1)
    parameter COUNT = 1,
    // Width of the epoch above {tlast, tdata} in each word
    parameter EPOCH_WIDTH = 16,
    // $readmemh file with COUNT words of EPOCH_WIDTH+DATA_WIDTH+1 bits: {epoch, tlast, tdata}
    parameter FILE = "in.hex",
    // Chance, in percent, that a cycle presents no beat
    parameter STALL_PERCENT = 0,
    // Seed of the stall generator (non-zero)
    parameter SEED = 1,
    // Beat the stream replays from after a reset that comes once it has started
    parameter RESTART_INDEX = 0
) (
    input  wire                  clk,
    input  wire                  rst,
    input  wire [EPOCH_WIDTH-1:0] epoch,
    output wire [EPOCH_WIDTH-1:0] pending_epoch,
    output wire [DATA_WIDTH-1:0] m_axis_tdata,
    output wire                  m_axis_tlast,
    output wire                  m_axis_tvalid,
    input  wire                  m_axis_tready,
    output wire                  done
);

reg [EPOCH_WIDTH+DATA_WIDTH:0] beats [0:COUNT-1];
initial $readmemh(FILE, beats);

reg [31:0] index_reg = 0;
reg        valid_reg = 1'b0;
reg        started_reg = 1'b0;
reg [31:0] rng_reg = SEED;

function [31:0] xorshift32(input [31:0] x);
    reg [31:0] y;
    begin
        y = x ^ (x << 13);
        y = y ^ (y >> 17);
        xorshift32 = y ^ (y << 5);
    end
endfunction

// The next beat to present: the same one until it is accepted.
wire [31:0] index_next = index_reg + {31'd0, valid_reg};
/* verilator lint_off UNSIGNED */
// With STALL_PERCENT = 0 (no stalls) this compare is constant, by design.
wire present_next = (index_next < COUNT) && ((rng_reg % 100) >= STALL_PERCENT)
    && (beats[index_next][EPOCH_WIDTH+DATA_WIDTH:DATA_WIDTH+1] <= epoch);
/* verilator lint_on UNSIGNED */

always @(posedge clk) begin
    if (rst) begin
        index_reg <= started_reg ? RESTART_INDEX : 0;
        valid_reg <= 1'b0;
        rng_reg <= SEED;
    end else begin
        started_reg <= 1'b1;
        rng_reg <= xorshift32(rng_reg);
        if (!valid_reg || m_axis_tready) begin
            index_reg <= index_next;
            valid_reg <= present_next;
        end
    end
end

assign m_axis_tdata = beats[index_reg][DATA_WIDTH-1:0];
assign m_axis_tlast = beats[index_reg][DATA_WIDTH];
assign m_axis_tvalid = valid_reg;
assign done = index_reg >= COUNT;
assign pending_epoch = done ? {EPOCH_WIDTH{1'b1}} : beats[index_reg][EPOCH_WIDTH+DATA_WIDTH:DATA_WIDTH+1];

endmodule

`resetall
