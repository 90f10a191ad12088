`resetall
`timescale 1ns / 1ps
`default_nettype none

// Testbench stream sink: writes every accepted beat as "<cycle> <{tlast, tdata} in hex>" to FILE, with random gaps
// in tready when STALL_PERCENT > 0. It keeps logging after COUNT beats so that extra output shows up as a mismatch.
// A reset clears the count, so done after a mid-stream reset means COUNT beats arrived since that reset.
// With CHECK = 1 it also compares each beat with the word of the same index in EXPECT_FILE ({tlast, tdata} per line)
// and prints the first difference; `mismatches` counts the differing beats (a missing or extra beat is counted by the
// testbench from `count`).
module axis_sink #(
    // Width of tdata
    parameter DATA_WIDTH = 8,
    // Number of beats expected; done rises when they have arrived
    parameter COUNT = 1,
    // Text file the beats are written to
    parameter FILE = "out.txt",
    // Chance, in percent, that a cycle is not ready
    parameter STALL_PERCENT = 0,
    // Seed of the stall generator (non-zero)
    parameter SEED = 1,
    // 1: compare every beat with EXPECT_FILE
    parameter CHECK = 0,
    // $readmemh file with COUNT words of DATA_WIDTH+1 bits, tlast in the top bit (read when CHECK = 1)
    parameter EXPECT_FILE = "expected.hex"
) (
    input  wire                  clk,
    input  wire                  rst,
    input  wire [31:0]           cycle,
    input  wire [DATA_WIDTH-1:0] s_axis_tdata,
    input  wire                  s_axis_tlast,
    input  wire                  s_axis_tvalid,
    output wire                  s_axis_tready,
    output wire                  done,
    output wire [31:0]           count,
    output wire [31:0]           mismatches
);

integer fd;
initial fd = $fopen(FILE, "w");

reg [31:0] count_reg = 0;
reg [31:0] mismatches_reg = 0;
wire [DATA_WIDTH:0] expected_word;

generate
    if (CHECK) begin : g_expected
        reg [DATA_WIDTH:0] expected [0:COUNT-1];
        initial $readmemh(EXPECT_FILE, expected);
        assign expected_word = count_reg < COUNT ? expected[count_reg] : {(DATA_WIDTH+1){1'b0}};
    end else begin : g_no_expected
        assign expected_word = {(DATA_WIDTH+1){1'b0}};
    end
endgenerate
reg        ready_reg = 1'b0;
reg [31:0] rng_reg = SEED;

function [31:0] xorshift32(input [31:0] x);
    reg [31:0] y;
    begin
        y = x ^ (x << 13);
        y = y ^ (y >> 17);
        xorshift32 = y ^ (y << 5);
    end
endfunction

/* verilator lint_off UNSIGNED */
// With STALL_PERCENT = 0 (no stalls) this compare is constant, by design.
wire ready_next = (rng_reg % 100) >= STALL_PERCENT;
/* verilator lint_on UNSIGNED */

always @(posedge clk) begin
    if (rst) begin
        ready_reg <= 1'b0;
        rng_reg <= SEED;
        count_reg <= 0;
        mismatches_reg <= 0;
    end else begin
        rng_reg <= xorshift32(rng_reg);
        ready_reg <= ready_next;
        if (s_axis_tvalid && ready_reg) begin
            $fwrite(fd, "%0d %h\n", cycle, {s_axis_tlast, s_axis_tdata});
            $fflush(fd);
            count_reg <= count_reg + 1;
            if (CHECK && count_reg < COUNT && expected_word !== {s_axis_tlast, s_axis_tdata}) begin
                if (mismatches_reg == 0) begin
                    $display("FAIL first difference at output beat %0d (cycle %0d): expected %h, got %h ({tlast, tdata})",
                        count_reg, cycle, expected_word, {s_axis_tlast, s_axis_tdata});
                end
                mismatches_reg <= mismatches_reg + 1;
            end
        end
    end
end

assign s_axis_tready = ready_reg;
assign done = count_reg >= COUNT;
assign count = count_reg;
assign mismatches = mismatches_reg;

endmodule

`resetall
