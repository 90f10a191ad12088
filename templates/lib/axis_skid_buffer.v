`resetall
`timescale 1ns / 1ps
`default_nettype none

// Two-entry skid buffer: registers tdata/tlast/tvalid and tready, so neither the forward path nor the backpressure
// path is combinational between its ports, at full throughput.
module axis_skid_buffer #(
    // Width of tdata
    parameter DATA_WIDTH = 8
) (
    input  wire                  clk,
    input  wire                  rst,

    input  wire [DATA_WIDTH-1:0] s_axis_tdata,
    input  wire                  s_axis_tlast,
    input  wire                  s_axis_tvalid,
    output wire                  s_axis_tready,

    output wire [DATA_WIDTH-1:0] m_axis_tdata,
    output wire                  m_axis_tlast,
    output wire                  m_axis_tvalid,
    input  wire                  m_axis_tready
);

reg [DATA_WIDTH-1:0] out_data_reg = {DATA_WIDTH{1'b0}};
reg                  out_last_reg = 1'b0;
reg                  out_valid_reg = 1'b0;
reg [DATA_WIDTH-1:0] skid_data_reg = {DATA_WIDTH{1'b0}};
reg                  skid_last_reg = 1'b0;
reg                  skid_valid_reg = 1'b0;

// Ready as long as the skid register is free: a beat that arrives while the output is stalled parks there.
assign s_axis_tready = !skid_valid_reg;
assign m_axis_tdata = out_data_reg;
assign m_axis_tlast = out_last_reg;
assign m_axis_tvalid = out_valid_reg;

wire out_free = !out_valid_reg || m_axis_tready;

always @(posedge clk) begin
    if (out_free) begin
        if (skid_valid_reg) begin
            out_data_reg <= skid_data_reg;
            out_last_reg <= skid_last_reg;
            out_valid_reg <= 1'b1;
            skid_valid_reg <= 1'b0;
        end else begin
            out_data_reg <= s_axis_tdata;
            out_last_reg <= s_axis_tlast;
            out_valid_reg <= s_axis_tvalid;
        end
    end else if (s_axis_tvalid && s_axis_tready) begin
        skid_data_reg <= s_axis_tdata;
        skid_last_reg <= s_axis_tlast;
        skid_valid_reg <= 1'b1;
    end
    if (rst) begin
        out_valid_reg <= 1'b0;
        skid_valid_reg <= 1'b0;
    end
end

endmodule

`resetall
